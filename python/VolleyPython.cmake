# Decides VOLLEY_PYTHON (the Python module `volley`, python/) and finds what it needs.
# Included by the top-level CMakeLists.txt (which then adds python/) and by tests/CMakeLists.txt
# (which runs the pytest suite): whichever includes it first decides, and each scope gets the
# imported targets (Python3::Module, pybind11::*) of its own find_package calls.
#
#   -DVOLLEY_PYTHON=ON|OFF            default ON when pybind11 (CONFIG) and Python 3's interpreter
#                                     and development files are found, and the build is not a
#                                     sanitizer build (an ASan/TSan extension cannot be loaded by
#                                     an uninstrumented python)
#   -DPython3_EXECUTABLE=...          the interpreter to build for (default /usr/bin/python3 when
#                                     it exists: Debian's python3-numpy/pytest belong to it)
#   -DVOLLEY_PYTHON_INSTALL_DIR=...   where `cmake --install` puts the package (relative to
#                                     CMAKE_INSTALL_PREFIX unless absolute); default the
#                                     interpreter's lib/pythonX.Y/{site,dist}-packages
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python 3 interpreter for the volley module")
endif()
find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
if(Python3_FOUND)
  find_package(pybind11 CONFIG QUIET)
endif()
set(_volley_python_found OFF)
if(Python3_FOUND AND pybind11_FOUND)
  set(_volley_python_found ON)
endif()

get_property(_volley_python_decided GLOBAL PROPERTY VOLLEY_PYTHON_DECIDED)
if(NOT _volley_python_decided)
  set_property(GLOBAL PROPERTY VOLLEY_PYTHON_DECIDED ON)
  set(_why "")
  set(_default ${_volley_python_found})
  if(NOT Python3_FOUND)
    set(_why "Python 3 interpreter and development files not found (Debian: python3-dev)")
  elseif(NOT pybind11_FOUND)
    set(_why "pybind11 not found (Debian: pybind11-dev)")
  elseif(VOLLEY_SANITIZE OR VOLLEY_TSAN)
    set(_why "sanitizer build (an instrumented extension cannot be loaded by python)")
    set(_default OFF)
  endif()
  if(NOT DEFINED CACHE{VOLLEY_PYTHON})
    # First configure without -DVOLLEY_PYTHON: remember when OFF was only for want of packages,
    # so that a later configure switches it on once they are installed.
    if(NOT _volley_python_found)
      set(VOLLEY_PYTHON_AUTO_OFF ON CACHE INTERNAL "")
    endif()
  elseif(VOLLEY_PYTHON_AUTO_OFF AND _volley_python_found AND NOT VOLLEY_PYTHON)
    set(VOLLEY_PYTHON ON CACHE BOOL "Build the Python module volley (pybind11)" FORCE)
    message(STATUS "volley: Python module switched on (pybind11 and Python 3 found now)")
  endif()
  if(_volley_python_found)
    set(VOLLEY_PYTHON_AUTO_OFF OFF CACHE INTERNAL "")
  endif()
  option(VOLLEY_PYTHON "Build the Python module volley (pybind11)" ${_default})
  if(VOLLEY_PYTHON AND NOT _volley_python_found)
    message(FATAL_ERROR "VOLLEY_PYTHON is ON but ${_why}; install them "
                        "(scripts/install-deps.sh) or configure with -DVOLLEY_PYTHON=OFF")
  endif()
  if(VOLLEY_PYTHON)
    message(STATUS "volley: Python module ON (${Python3_EXECUTABLE}, Python ${Python3_VERSION}, "
                   "pybind11 ${pybind11_VERSION}); -DVOLLEY_PYTHON=OFF skips it")
  elseif(_why)
    message(STATUS "volley: Python module OFF: ${_why}. Everything else builds as usual")
  else()
    message(STATUS "volley: Python module OFF (-DVOLLEY_PYTHON=ON builds it)")
  endif()
endif()

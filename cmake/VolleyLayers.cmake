# The layering of volley's libraries, as the README's "Architecture" section draws it:
#
#   volley (core: sim + models)  <-  data  <-  train  <-  io  <-  analysis  <-  report  <-  CLI
#                                    data  <-  ear    <-  io
#   volley (core)  <-  mpi (optional: volley::Communicator over MPI)  <-  CLI
#
# An arrow points from a library to one it may use; nothing else is allowed. Two checks keep
# this true:
#   volley_check_layers()   at configure time: each library's direct links to volley libraries
#                           (LINK_LIBRARIES and INTERFACE_LINK_LIBRARIES, aliases resolved) stop
#                           the configuration when they break the layering; the include scan
#                           below only warns there (so that one stray include does not stop
#                           everyone's build) and fails in the ctest.
#   cmake -DVOLLEY_SOURCE_DIR=<dir> -P VolleyLayers.cmake
#                           the include scan (the ctest `layering`): no source or header of a
#                           layer includes a header of a layer above it or beside it, e.g. no
#                           kernel file (core, data, train, ear) includes volley/io, volley/analysis
#                           or volley/report.

set(_volley_libs volley volley_data volley_train volley_ear volley_io volley_analysis volley_report)
if(TARGET volley_mpi)
  list(APPEND _volley_libs volley_mpi)
endif()
set(_volley_may_link_volley_mpi volley)
set(_volley_may_link_volley "")
set(_volley_may_link_volley_data volley)
set(_volley_may_link_volley_train volley volley_data)
set(_volley_may_link_volley_ear volley volley_data)
set(_volley_may_link_volley_io volley volley_data volley_train volley_ear)
set(_volley_may_link_volley_analysis volley volley_data volley_train volley_ear volley_io)
set(_volley_may_link_volley_report volley volley_data volley_train volley_ear volley_io
    volley_analysis)

# Layer name | directories (relative to the source tree) | header directories it must not include
set(_volley_layer_names core data train ear io analysis mpi)
set(_volley_dirs_core include/volley src/core src/models src/sim include/volley/models)
set(_volley_dirs_data include/volley/data src/data)
set(_volley_dirs_train include/volley/train src/train include/volley/learn src/learn)
set(_volley_dirs_ear include/volley/ear src/ear)
set(_volley_dirs_io include/volley/io src/io)
set(_volley_dirs_analysis include/volley/analysis src/analysis)
set(_volley_dirs_mpi include/volley/mpi src/mpi)
set(_volley_forbidden_core data train learn ear io analysis report mpi)
set(_volley_forbidden_data train learn ear io analysis report mpi)
set(_volley_forbidden_train ear io analysis report mpi)
set(_volley_forbidden_ear train learn io analysis report mpi)
set(_volley_forbidden_io analysis report mpi)
set(_volley_forbidden_analysis report mpi)
set(_volley_forbidden_mpi data train learn ear io analysis report)

# Scans the layers' files under `source_dir` and reports every forbidden include as a message
# of type `mode` (FATAL_ERROR or WARNING).
function(volley_check_includes source_dir mode)
  set(errors "")
  foreach(layer IN LISTS _volley_layer_names)
    list(JOIN _volley_forbidden_${layer} "|" forbidden)
    set(pattern "#[ \t]*include[ \t]*[<\"]volley/(${forbidden})/[^>\"]*[>\"]")
    foreach(dir IN LISTS _volley_dirs_${layer})
      if(NOT IS_DIRECTORY "${source_dir}/${dir}")
        continue()
      endif()
      # include/volley itself holds only the core's top-level headers; subdirectories are
      # layers of their own (listed separately).
      if(dir STREQUAL "include/volley")
        file(GLOB files "${source_dir}/${dir}/*.hpp")
      else()
        file(GLOB_RECURSE files "${source_dir}/${dir}/*.hpp" "${source_dir}/${dir}/*.cpp")
      endif()
      foreach(f IN LISTS files)
        file(STRINGS "${f}" hits REGEX "${pattern}")
        foreach(hit IN LISTS hits)
          file(RELATIVE_PATH rel "${source_dir}" "${f}")
          string(STRIP "${hit}" hit)
          string(APPEND errors "\n  ${rel} (${layer}): ${hit}")
        endforeach()
      endforeach()
    endforeach()
  endforeach()
  if(errors)
    message(${mode} "volley layering: headers included from a layer above or beside "
                        "(see cmake/VolleyLayers.cmake and the README's Architecture):${errors}")
  endif()
endfunction()

# Checks the links of the library targets, then the includes of the source tree.
function(volley_check_layers)
  set(errors "")
  foreach(lib IN LISTS _volley_libs)
    if(NOT TARGET ${lib})
      message(FATAL_ERROR "volley layering: no target ${lib} (cmake/VolleyLayers.cmake lists it)")
    endif()
    get_target_property(direct ${lib} LINK_LIBRARIES)
    get_target_property(interface ${lib} INTERFACE_LINK_LIBRARIES)
    foreach(dep IN LISTS direct interface)
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" dep "${dep}")
      if(TARGET "${dep}")
        get_target_property(aliased "${dep}" ALIASED_TARGET)
        if(aliased)
          set(dep "${aliased}")
        endif()
      endif()
      if(dep IN_LIST _volley_libs AND NOT dep IN_LIST _volley_may_link_${lib})
        string(APPEND errors "\n  ${lib} links ${dep}")
      endif()
    endforeach()
  endforeach()
  if(errors)
    message(FATAL_ERROR "volley layering: links against the layering (see "
                        "cmake/VolleyLayers.cmake and the README's Architecture):${errors}")
  endif()
  volley_check_includes("${PROJECT_SOURCE_DIR}" WARNING)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(NOT VOLLEY_SOURCE_DIR)
    message(FATAL_ERROR "usage: cmake -DVOLLEY_SOURCE_DIR=<volley source tree> -P ${CMAKE_CURRENT_LIST_FILE}")
  endif()
  volley_check_includes("${VOLLEY_SOURCE_DIR}" FATAL_ERROR)
  message(STATUS "volley layering: includes follow the layering")
endif()

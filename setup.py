"""`pip install --no-build-isolation .` builds the module with this repository's CMake project.

setuptools hands the extension `volley._volley` to CMakeBuild, which configures the project in
$VOLLEY_BUILD_DIR (default build/pip; `build`, the README's build directory, to reuse a build
that is there), builds the target volley_python and copies the package it assembles
(BUILD/python/volley: the compiled core and the pure-Python files) into the wheel. Nothing is
downloaded: CMake finds pybind11, numpy and the C++ libraries from Debian packages
(scripts/install-deps.sh).
"""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def version():
    text = (ROOT / "CMakeLists.txt").read_text()
    m = re.search(r"project\(volley\s+VERSION\s+([0-9.]+)", text)
    return m.group(1) if m else "0.0.0"


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = Path(os.environ.get("VOLLEY_BUILD_DIR", ROOT / "build" / "pip"))
        if not build.is_absolute():
            build = ROOT / build
        configure = ["cmake", "-S", str(ROOT), "-B", str(build), "-DVOLLEY_PYTHON=ON"]
        if not (build / "CMakeCache.txt").exists():
            # A fresh build directory: for the interpreter that runs pip (a virtual environment's
            # python resolves to the system interpreter whose numpy and headers CMake finds).
            configure += ["-DCMAKE_BUILD_TYPE=Release",
                          f"-DPython3_EXECUTABLE={os.path.realpath(sys.executable)}"]
        subprocess.run(configure, check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        subprocess.run(["cmake", "--build", str(build), "--target", "volley_python", "-j", jobs],
                       check=True)
        package = build / "python" / "volley"
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        if not (package / f"_volley{suffix}").exists():
            raise RuntimeError(f"{package} has no _volley{suffix}: the build directory {build} "
                               f"was configured for another interpreter than {sys.executable}; "
                               "set VOLLEY_BUILD_DIR to a fresh directory")
        dest = Path(self.get_ext_fullpath(ext.name)).parent
        dest.mkdir(parents=True, exist_ok=True)
        for f in package.iterdir():
            if f.is_file():
                shutil.copy2(f, dest / f.name)


setup(
    version=version(),
    packages=[],
    ext_modules=[Extension("volley._volley", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": str(Path("build") / "setuptools")},
             "egg_info": {"egg_base": str(Path("build"))}},
    zip_safe=False,
)

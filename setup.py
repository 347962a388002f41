"""Package discovery, the one part of the build pyproject.toml cannot state.

fixtures/ stays at the repository root and installs as the package `pkconf_fixtures`, so an
installed pkconf reads its fixtures through importlib.resources; pyproject.toml can either find
packages or map a directory to another package name, not both. Everything else is in
pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["pkconf*", "conformance"]), "pkconf_fixtures"],
    package_dir={"pkconf_fixtures": "fixtures"},
)

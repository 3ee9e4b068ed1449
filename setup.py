"""Package discovery for twin-sim: every package under twin/, plus the sibling folders that
install as twin.envs, twin.controllers, twin.assets and twin.configs (never top-level)."""

from setuptools import find_packages, setup

SIBLINGS = {"envs": "twin.envs", "controllers": "twin.controllers",
            "assets": "twin.assets", "configs": "twin.configs"}

package_dir = {"twin": "twin"}
packages = ["twin"] + [f"twin.{p}" for p in find_packages("twin")]
for folder, name in SIBLINGS.items():
    package_dir[name] = folder
    packages.append(name)
    packages += [f"{name}.{p}" for p in find_packages(folder)]

setup(packages=packages, package_dir=package_dir)

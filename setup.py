"""Install mmemtm, an MMAction2 plugin for efficient temporal sentence grounding.

Like OpenMMLab projects, the install places ``tools/``, ``configs/`` and ``model-index.yml`` under
``mmemtm/.mim``, so that ``mim train mmemtm CONFIG`` finds the training script and the configs,
``mim search mmemtm`` the models, and configs can inherit ``mmemtm::<config>``. In the source
tree ``mmemtm/.mim`` holds links to the same files (what OpenMMLab's develop installs make).
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
MIM_ENTRIES = ('tools', 'configs', 'model-index.yml')


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(HERE, 'mmemtm', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(path: str) -> list:
    requirements = []
    with open(osp.join(HERE, path), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-r'):
                requirements.append(line)
    return requirements


def add_mim_extension(target_root: str) -> None:
    """Copy ``tools/``, ``configs/`` and ``model-index.yml`` into ``<target_root>/mmemtm/.mim``."""
    mim_dir = osp.join(target_root, 'mmemtm', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for entry in MIM_ENTRIES:
        src = osp.join(HERE, entry)
        dst = osp.join(mim_dir, entry)
        if osp.lexists(dst):
            if osp.isdir(dst) and not osp.islink(dst):
                shutil.rmtree(dst)
            else:
                os.remove(dst)
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


class BuildWithMim(build_py):
    """Build the package and add the ``.mim`` folder to the built copy."""

    def run(self) -> None:
        super().run()
        add_mim_extension(self.build_lib)


setup(
    name='mmemtm',
    version=read_version(),
    description='EMTM: efficient temporal sentence grounding by multi-teacher distillation, '
    'as an MMAction2 plugin',
    long_description=open(osp.join(HERE, 'README.md'), encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    include_package_data=True,
    package_data={'mmemtm': ['demo_data/**/*']},
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={'tests': read_requirements('requirements/tests.txt'),
                    'demo': read_requirements('requirements/demo.txt')},
    cmdclass={'build_py': BuildWithMim},
    zip_safe=False,
)

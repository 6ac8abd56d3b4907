"""Build hook: a wheel carries embed.js and static/ inside the widgets package, as widgets/public/.

They stay at the repository root in the source layout (DESIGN.md: embed.js is the root's host SDK;
hosts, docs and tests name these paths), so the build copies them rather than the tree moving them.
"""

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithPublicFiles(build_py):
    """build_py, then embed.js and static/ into widgets/public/ (an editable install serves the checkout's)."""

    def run(self):
        super().run()
        if not self.editable_mode:
            target = f"{self.build_lib}/widgets/public"
            self.mkpath(target)
            self.copy_file("embed.js", f"{target}/embed.js")
            self.copy_tree("static", f"{target}/static")


setup(cmdclass={"build_py": BuildPyWithPublicFiles})

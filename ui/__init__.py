"""The web chat over the articles (Gradio): ``qa chat`` or ``ui.app.build_app(qa)``.

:mod:`ui.render` turns answers into safe HTML; :mod:`ui.state` keeps each person's chat and uploads,
:mod:`ui.handlers` answers the page's events (:mod:`ui.uploads` checks uploaded files) and :mod:`ui.app`
lays the page out and serves it.
"""

import os

# before any module of the package imports Gradio: no analytics, no model downloads
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

"""The web chat over the articles (Gradio): ``qa chat`` or ``ui.app.build_app(qa)``.

:mod:`ui.render` turns answers into safe HTML; :mod:`ui.app` builds and serves the page.
"""

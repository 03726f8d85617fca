"""Entry point of the moderators' console: ``streamlit run admin_ui/app.py`` (or ``detector admin``).

Order matters: settings first (a broken configuration is an error box, not a traceback), then
``st.navigation`` with every page (so a Slack link such as ``/cluster?id=12`` still resolves while
the visitor logs in), then the login gate, and only then the page. Database failures raised while a
page runs become one clear error box.
"""

from __future__ import annotations

import streamlit as st

from admin_ui import auth, data
from admin_ui.app_pages import _ui

st.set_page_config(page_title="sellerwatch admin", page_icon="🛡️", layout="wide")

PAGES = [
    st.Page("app_pages/review_queue.py", title="Review queue", icon=":material/inbox:", default=True),  # at /
    st.Page("app_pages/cluster.py", title="Cluster", icon=":material/hub:", url_path="cluster"),
    st.Page("app_pages/post.py", title="Post", icon=":material/article:", url_path="post"),
    st.Page("app_pages/author.py", title="Author", icon=":material/person:", url_path="author"),
    st.Page("app_pages/prompts.py", title="Prompts", icon=":material/psychology:", url_path="prompts"),
    st.Page("app_pages/metrics.py", title="Metrics", icon=":material/monitoring:", url_path="metrics"),
]


def main() -> None:
    try:
        settings = data.load_settings()
    except ValueError as err:
        st.error(str(err), icon=":material/settings:")
        st.stop()
    user = auth.current_user(settings)
    page = st.navigation(PAGES, position="sidebar" if user else "hidden")
    if user is None:
        auth.login_screen(settings)
        return
    auth.sidebar(user)
    _ui.path_status(settings)
    _ui.show_flash()
    try:
        page.run()
    except data.BackendUnavailable as err:
        st.error(f"**Database unavailable.** {err}", icon=":material/cloud_off:")


main()

"""The login gate: who is using the admin UI, and what their role lets them do.

Two ways in, chosen by settings: the built-in accounts (``DETECTOR_ADMIN_USERS``, scrypt hashes,
checked by ``detector.auth``) with a form, or OIDC through Streamlit's ``st.login`` when
``DETECTOR_ADMIN_OIDC`` is on. Either way the page scripts only ever see a ``User`` (name, role).
The login form clears itself on submit so the password does not linger in session state.
"""

from __future__ import annotations

import streamlit as st

from admin_ui import data

SESSION_KEY = "auth_user"


def current_user(settings) -> data.User | None:
    """The logged-in user of this browser session, or None."""
    if settings.admin_oidc:
        if not st.user.get("is_logged_in"):
            return None
        return data.user_for_identity(settings, st.user.get("email"))
    saved = st.session_state.get(SESSION_KEY)
    entry = settings.admin_users.get(saved["name"]) if saved else None
    if not isinstance(entry, dict):
        return None  # an account removed from settings loses access at its next click
    return data.User(name=saved["name"], role=entry.get("role", "moderator"))


def login_screen(settings) -> None:
    """Everything an anonymous visitor sees: the form (or the SSO button), nothing else."""
    _, middle, _ = st.columns([1, 1.4, 1])
    with middle:
        st.title("sellerwatch")
        st.caption("Moderator console · log in to review alerts")
        if settings.admin_oidc:
            _oidc_login(settings)
            return
        if not settings.admin_users:
            st.error("No accounts are configured. Set `DETECTOR_ADMIN_USERS` "
                     "(make a hash with `detector admin hash-password`).")
            return
        with st.form("login_form", clear_on_submit=True):
            username = st.text_input("Username", key="login_user", autocomplete="username")
            password = st.text_input("Password", type="password", key="login_password",
                                     autocomplete="current-password")
            submitted = st.form_submit_button("Log in", key="login_submit", type="primary", width="stretch")
        if submitted:
            user = data.authenticate(settings, username, password)
            if user is None:
                st.error("Wrong username or password.", icon=":material/block:")
            else:
                st.session_state[SESSION_KEY] = {"name": user.name, "role": user.role}
                st.rerun()


def _oidc_login(settings) -> None:
    if st.user.get("is_logged_in"):  # authenticated by the IdP but not on our list
        st.error(f"{st.user.get('email') or 'This account'} may not use the admin UI: "
                 "ask an admin to add it to DETECTOR_ADMIN_USERS.")
        st.button("Log out", key="oidc_logout", on_click=st.logout)
        return
    st.button("Log in with single sign-on", key="oidc_login", type="primary", on_click=st.login)


def logout() -> None:
    """Forget this session's login (and end the OIDC session when that is how we got in)."""
    st.session_state.pop(SESSION_KEY, None)
    if st.user.get("is_logged_in"):
        st.logout()


def sidebar(user: data.User) -> None:
    with st.sidebar:
        st.markdown(f"Logged in as **{user.name}** · {user.role}")
        st.button("Log out", key="logout", on_click=logout, icon=":material/logout:")


def is_admin(user: data.User | None) -> bool:
    return user is not None and user.role == "admin"

"""The driftscope dashboard's app; ``driftscope dashboard`` runs ``entry/driftscope_dashboard.py``, which calls
:func:`main`.

Page configuration, sign-in, ``st.navigation`` over ``views/``, the shared sidebar, and one place
that turns driftscope errors (an unreachable or unmigrated store, a bad config) into a readable
message instead of a traceback.

The page scripts live in ``views/``, not ``pages/``: Streamlit runs a ``pages/`` folder next to
the entrypoint as a legacy multipage app until some session has called ``st.navigation`` (on a
fresh server, and on every AppTest run), which would execute a page without this script, i.e.
without the login.
"""

from collections.abc import Callable

import streamlit as st

from driftscope.dashboard import auth, data, login, sidebar, state, ui
from driftscope.dashboard.settings import Settings, environment_key, load_settings
from driftscope.errors import DriftscopeError

#: the tab icon: an emoji is drawn by the browser from its own fonts (a ``:material/...:`` icon would be
#: fetched from a font CDN, and the dashboard must work with no internet at all)
PAGE_ICON = "📈"


@st.cache_resource(max_entries=4, show_spinner=False)
def _settings(key: tuple[str | None, float | None, str | None, str | None]) -> Settings:
    path, _mtime, database_env, users_env = key
    return load_settings(path, database_env, users_env)


def _page(name: str, title: str, icon: str, *, default: bool = False) -> st.Page:
    return st.Page(ui.PAGES[name], title=title, icon=icon, url_path=ui.URL_PATHS[name], default=default)


def _pages() -> dict[str, list[st.Page]]:
    return {
        "Monitor": [
            # The default page is served at "/" and only there (Streamlit meets a typed or linked
            # /overview with a "Page not found" dialog), so a hidden twin answers /overview.
            st.Page(ui.PAGES["overview"], title="Overview", icon=":material/dashboard:", url_path="home", default=True),
            st.Page(ui.PAGES["overview"], title="Overview", url_path=ui.URL_PATHS["overview"], visibility="hidden"),
            _page("version", "Model version", ":material/monitoring:"),
            _page("feature", "Feature", ":material/bar_chart:"),
            _page("compare", "Compare versions", ":material/compare_arrows:"),
        ],
        "Operate": [
            _page("alerts", "Alerts", ":material/notifications:"),
            _page("runs", "Runs", ":material/history:"),
        ],
    }


def _error_page(error: DriftscopeError) -> Callable[[], None]:
    def configuration_error() -> None:
        st.title("driftscope")
        ui.show_error(error)

    return configuration_error


def _only_page(render: Callable[[], None], title: str, url_path: str) -> None:
    st.navigation([st.Page(render, title=title, url_path=url_path)], position="hidden").run()


def main() -> None:
    """Render one run of the app."""
    st.set_page_config(page_title="driftscope", page_icon=PAGE_ICON, layout="wide")
    state.sync_from_url()
    try:
        settings = _settings(environment_key())
    except DriftscopeError as exc:
        _only_page(_error_page(exc), "Configuration error", "error")
        return
    user = auth.current_user(settings)
    if user is None:
        # The pages stay registered (hidden, not run) so the address asked for (an alert e-mail's
        # /feature?model=...) is kept through the sign-in, whose rerun then opens it.
        st.navigation(_pages(), position="hidden")
        login.login_page(settings)
        return
    navigation = st.navigation(_pages())
    try:
        store = data.open_store(settings.database_url)
        ui.set_page_state(sidebar.render(settings, store, user))
        state.write_url()
        navigation.run()
    except DriftscopeError as exc:
        ui.show_error(exc)
    finally:
        state.write_url()


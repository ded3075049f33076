"""Global shortcuts on Wayland through the xdg-desktop-portal GlobalShortcuts interface.

Wayland lets no program grab keys; instead the desktop portal asks the user (in the
compositor's own dialog) to accept, change or refuse the shortcuts an application proposes,
and then sends ``Activated`` signals when they are pressed. The calls take ``a(sa{sv})``
arguments, which QtDBus cannot marshal, so this speaks D-Bus with jeepney (pure Python).

jeepney's threaded router reads the bus on its own thread; portal signals land in queues.
``register`` blocks its caller until the portal answers (the user may be looking at the
dialog). Callbacks run on this backend's dispatch thread: a GUI must forward them to its own
thread (a Qt signal does), as with the X11 backend.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from voxdesk.hotkeys.shortcut import HotkeyError, Shortcut
from voxdesk.hotkeys.x11 import _KEYSYM_NAMES as _X_KEYSYM_NAMES  # XKB keysyms = X keysyms

log = logging.getLogger(__name__)

PORTAL_BUS_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS_IFACE = "org.freedesktop.portal.GlobalShortcuts"
REQUEST_IFACE = "org.freedesktop.portal.Request"
SESSION_IFACE = "org.freedesktop.portal.Session"
REGISTRY_IFACE = "org.freedesktop.host.portal.Registry"
APP_ID = "io.github.voxdesk.VoxDesk"  # packaging/io.github.voxdesk.VoxDesk.desktop

# Hint for every failure: what still works when the portal does not give us the shortcut.
PORTAL_HINT = ("Accept the shortcut in your desktop's dialog next time, or bind `voxdesk "
               "read-clipboard` (and `voxdesk stop`) to a key in your desktop's keyboard "
               "settings; the running VoxDesk will read aloud when it is pressed.")

# The shortcuts spec (specifications.freedesktop.org/shortcuts): XKB modifier names + keysym.
_MODIFIER_NAMES = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "super": "LOGO"}
_KEYSYMS = {**_X_KEYSYM_NAMES, "space": "space", "pgup": "Page_Up", "pgdown": "Page_Down"}

_CALL_TIMEOUT = 5.0  # an ordinary method call; the portal may need D-Bus activation first
_RESPONSE_CODES = {1: "the dialog was cancelled", 2: "the desktop refused it"}


def preferred_trigger(shortcut: Shortcut) -> str:
    """``shortcut`` as the shortcuts spec writes it: "CTRL+ALT+r", "LOGO+F5"."""
    mods = [_MODIFIER_NAMES[m] for m in ("ctrl", "alt", "shift", "super")
            if m in shortcut.modifiers]
    key = shortcut.key
    if key in _KEYSYMS:
        keysym = _KEYSYMS[key]
    elif len(key) == 1:
        keysym = key  # letters and digits: the keysym is the lower-case character itself
    else:
        keysym = key.capitalize()  # "f5" -> "F5", "home" -> "Home", "print" -> "Print"
    return "+".join([*mods, keysym])


def _session_bus_address() -> str:
    # jeepney only reads DBUS_SESSION_BUS_ADDRESS; systemd sessions may leave it unset and
    # rely on the standard socket in the runtime directory (GDBus and sd-bus fall back there).
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return f"unix:path={os.path.join(runtime, 'bus')}"
    raise HotkeyError("There is no D-Bus session bus.", PORTAL_HINT)


class PortalHotkeys:
    name = "Wayland portal"
    interactive = True  # the desktop shows a dialog to confirm each binding

    def __init__(self, bus_address: str | None = None,
                 response_timeout: float = 300.0) -> None:
        """Connect to the portal; HotkeyError if it lacks the GlobalShortcuts interface.

        ``response_timeout``: how long ``register`` waits for the user to answer the dialog.
        """
        try:
            from jeepney import DBusAddress, HeaderFields, MatchRule, message_bus, new_method_call
            from jeepney.io.threading import DBusRouter, open_dbus_connection
            from jeepney.wrappers import DBusErrorResponse, Properties, unwrap_msg
        except ImportError as exc:
            raise HotkeyError("jeepney is not installed.", "Reinstall VoxDesk.") from exc
        self._MatchRule, self._new_method_call = MatchRule, new_method_call
        self._DBusAddress, self._unwrap = DBusAddress, unwrap_msg
        self._DBusError = DBusErrorResponse
        self._message_bus, self._path_field = message_bus, HeaderFields.path
        self.response_timeout = response_timeout
        #: shortcut id -> how the desktop says to trigger it (the user may have changed it).
        self.bound: dict[str, str] = {}
        self._portal = DBusAddress(PORTAL_PATH, PORTAL_BUS_NAME, SHORTCUTS_IFACE)
        self._sessions: dict[str, dict[str, Callable[[], None]]] = {}
        self._lock = threading.Lock()  # one portal conversation at a time
        self._tokens = itertools.count(1)
        self._token_prefix = f"voxdesk_{secrets.token_hex(4)}"

        try:
            self._conn = open_dbus_connection(bus_address or _session_bus_address())
        except HotkeyError:
            raise
        except Exception as exc:  # KeyError, OSError, RuntimeError: the bus is unreachable
            raise HotkeyError(f"Cannot reach the D-Bus session bus ({exc}).", PORTAL_HINT) from exc
        self._router = DBusRouter(self._conn)
        try:
            reply = self._call(Properties(self._portal).get("version"))
            self.version = int(reply[0][1])
            self._portal_owner = self._call(message_bus.GetNameOwner(PORTAL_BUS_NAME))[0]
        except HotkeyError as exc:
            self._shutdown_connection()
            raise HotkeyError("The desktop portal offers no global shortcuts "
                              f"({exc.message}).", PORTAL_HINT) from exc
        self._activations: queue.Queue[Any] = queue.Queue()
        self._responses: queue.Queue[Any] = queue.Queue()
        try:
            self._register_app_id()
            # Only the portal's signals: the bus routes by name owner, the filters by sender.
            self._activated_filter = self._subscribe(
                dict(interface=SHORTCUTS_IFACE, member="Activated", path=PORTAL_PATH),
                self._activations)
            self._response_filter = self._subscribe(
                dict(interface=REQUEST_IFACE, member="Response"), self._responses)
        except HotkeyError:
            self._shutdown_connection()
            raise
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="voxdesk-portal-hotkeys",
                                        daemon=True)
        self._thread.start()

    # -- public, any thread ---------------------------------------------------------------------

    def register(self, shortcut: Shortcut, callback: Callable[[], None], *,
                 shortcut_id: str | None = None, description: str | None = None) -> str:
        """Ask the portal to bind ``shortcut``; returns how the desktop says to trigger it.

        Raises HotkeyError if the user cancels the dialog, leaves this shortcut out, or the
        portal fails. A portal session can bind only once, so each call opens its own session.
        """
        shortcut_id = shortcut_id or "voxdesk-" + str(shortcut).lower().replace("+", "-")
        description = description or f"VoxDesk: {shortcut}"
        with self._lock:
            session = self._create_session()
            try:
                trigger = self._bind(session, shortcut, shortcut_id, description)
            except BaseException:
                self._close_session(session)
                raise
            self._sessions[session] = {shortcut_id: callback}
            self.bound[shortcut_id] = trigger
            return trigger

    def unregister_all(self) -> None:
        with self._lock:
            for session in list(self._sessions):
                self._close_session(session)
            self._sessions.clear()
            self.bound.clear()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A register() waiting for the person to answer the desktop's dialog holds the lock:
        # wake it, or closing the window would wait for that answer.
        self._responses.put(None)
        if self._thread.is_alive():
            try:
                self.unregister_all()
            except HotkeyError:
                pass  # the bus went away: the portal drops our sessions with the connection
            self._activations.put(None)
            self._thread.join(2)
        self._activated_filter.close()
        self._response_filter.close()
        self._shutdown_connection()

    # -- D-Bus plumbing ---------------------------------------------------------------------

    def _call(self, message: Any, timeout: float = _CALL_TIMEOUT) -> tuple[Any, ...]:
        try:
            return self._unwrap(self._router.send_and_get_reply(message, timeout=timeout))
        except self._DBusError as exc:
            raise HotkeyError(f"{exc.name}: {' '.join(map(str, exc.data))}".strip(),
                              PORTAL_HINT) from exc
        except TimeoutError as exc:
            raise HotkeyError("The desktop portal did not answer.", PORTAL_HINT) from exc
        except Exception as exc:  # RouterClosed, OSError: the connection broke
            raise HotkeyError(f"Lost the D-Bus connection ({exc}).", PORTAL_HINT) from exc

    def _subscribe(self, fields: dict[str, str], into: queue.Queue[Any]) -> Any:
        self._call(self._message_bus.AddMatch(
            self._MatchRule(type="signal", sender=PORTAL_BUS_NAME, **fields)))
        return self._router.filter(
            self._MatchRule(type="signal", sender=self._portal_owner, **fields), queue=into)

    def _register_app_id(self) -> None:
        # Portals identify unsandboxed apps by this call (xdg-desktop-portal >= 1.19; GNOME's
        # shortcut dialog needs it). Older portals lack it and guess from the process instead.
        registry = self._DBusAddress(PORTAL_PATH, PORTAL_BUS_NAME, REGISTRY_IFACE)
        try:
            self._call(self._new_method_call(registry, "Register", "sa{sv}", (APP_ID, {})))
        except HotkeyError as exc:
            log.debug("portal app id registration skipped: %s", exc.message)

    def _shutdown_connection(self) -> None:
        self._router.close()
        self._conn.close()

    def _token(self) -> str:
        return f"{self._token_prefix}_{next(self._tokens)}"

    def _request(self, method: str, signature: str, body: tuple[Any, ...],
                 options: dict[str, tuple[str, Any]]) -> tuple[int, dict[str, Any]]:
        """Call a portal method that answers through a Request object's Response signal."""
        if self._closed:
            raise HotkeyError("The shortcuts were let go of before the desktop answered.")
        options = {**options, "handle_token": ("s", self._token())}
        # Drop answers to requests that timed out earlier: they belong to no one now.
        while not self._responses.empty():
            self._responses.get_nowait()
        handle = self._call(self._new_method_call(self._portal, method, signature,
                                                  (*body, options)))[0]
        # The Response may be queued already (the filter was there before the call).
        deadline = time.monotonic() + self.response_timeout
        while True:
            try:
                message = self._responses.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                request = self._DBusAddress(handle, PORTAL_BUS_NAME, REQUEST_IFACE)
                try:
                    self._call(self._new_method_call(request, "Close"))
                except HotkeyError:
                    pass
                raise HotkeyError(f"No answer from the desktop's shortcut dialog within "
                                  f"{self.response_timeout:.0f} s.", PORTAL_HINT) from None
            if message is None:  # close() while waiting
                raise HotkeyError("The shortcuts were let go of before the desktop answered.")
            if message.header.fields.get(self._path_field) == handle:
                code, results = message.body
                return code, {key: value for key, (_sig, value) in results.items()}

    def _create_session(self) -> str:
        code, results = self._request("CreateSession", "a{sv}", (),
                                      {"session_handle_token": ("s", self._token())})
        if code != 0 or "session_handle" not in results:
            reason = _RESPONSE_CODES.get(code, f"response {code}")
            raise HotkeyError(f"The desktop portal would not open a shortcut session ({reason}).",
                              PORTAL_HINT)
        return str(results["session_handle"])

    def _bind(self, session: str, shortcut: Shortcut, shortcut_id: str, description: str) -> str:
        wanted = [(shortcut_id, {"description": ("s", description),
                                 "preferred_trigger": ("s", preferred_trigger(shortcut))})]
        code, results = self._request("BindShortcuts", "oa(sa{sv})sa{sv}",
                                      (session, wanted, ""), {})
        if code != 0:
            raise HotkeyError(f"{shortcut} was not bound: {_RESPONSE_CODES.get(code, code)}.",
                              PORTAL_HINT)
        bound = {sid: {k: v for k, (_sig, v) in props.items()}
                 for sid, props in results.get("shortcuts", [])}
        if shortcut_id not in bound:
            raise HotkeyError(f"{shortcut} was not bound: it was left out in the desktop's "
                              "shortcut dialog.", PORTAL_HINT)
        return str(bound[shortcut_id].get("trigger_description") or shortcut)

    def _close_session(self, session: str) -> None:
        self._sessions.pop(session, None)
        address = self._DBusAddress(session, PORTAL_BUS_NAME, SESSION_IFACE)
        try:
            self._call(self._new_method_call(address, "Close"))
        except HotkeyError as exc:
            log.debug("closing portal session %s: %s", session, exc.message)

    # -- the dispatch thread ----------------------------------------------------------------

    def _dispatch(self) -> None:
        while (message := self._activations.get()) is not None:
            session, shortcut_id = message.body[0], message.body[1]
            callback = self._sessions.get(session, {}).get(shortcut_id)
            if callback is None:
                continue
            try:
                callback()
            except Exception:  # one failing callback must not end the listener
                log.exception("global shortcut %s failed", shortcut_id)

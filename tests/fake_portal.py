"""A stand-in xdg-desktop-portal for tests: the GlobalShortcuts interface on a private bus.

Run as ``python tests/fake_portal.py [--without-global-shortcuts]`` with
DBUS_SESSION_BUS_ADDRESS pointing at the bus; it prints "ready" once it owns
org.freedesktop.portal.Desktop. Like the real portal it answers CreateSession and
BindShortcuts with a Request path and then emits Response on that path. A test-only interface
(org.voxdesk.test.FakePortal at /org/voxdesk/test) lets the test read what the portal was
sent, choose its answers (``Configure``) and press a bound shortcut (``Activate``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, message_bus, new_error, new_signal
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import Message
from jeepney.wrappers import new_method_return

PORTAL_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
TEST_IFACE = "org.voxdesk.test.FakePortal"


class FakePortal:
    def __init__(self, with_shortcuts: bool) -> None:
        self.with_shortcuts = with_shortcuts
        self.conn = open_dbus_connection("SESSION")
        self.calls: list[dict[str, Any]] = []
        # What the user "does" in the dialog: the Response code, ids they refuse, and
        # triggers they choose instead of the preferred ones.
        self.config: dict[str, Any] = {"bind_response": 0, "refuse": [], "triggers": {},
                                       "hold": False}
        self.held: list[tuple[str, int, dict[str, Any]]] = []  # answers the "user" has not given
        self.session_owner: dict[str, str] = {}  # open session path -> its client
        self.bound: dict[str, list[str]] = {}  # open session path -> the ids bound in it

    def run(self) -> None:
        do_not_queue = 4
        reply = self.conn.send_and_get_reply(message_bus.RequestName(PORTAL_NAME, do_not_queue))
        if reply.body[0] != 1:
            sys.exit(f"could not own {PORTAL_NAME}: {reply.body}")
        print("ready", flush=True)
        while True:
            message = self.conn.receive()
            if message.header.message_type == MessageType.method_call:
                self.handle(message)

    def handle(self, message: Message) -> None:
        fields = message.header.fields
        iface, member = fields.get(HeaderFields.interface), fields[HeaderFields.member]
        path, sender = fields[HeaderFields.path], fields[HeaderFields.sender]
        if iface != TEST_IFACE:
            self.calls.append({"interface": iface, "member": member, "path": path,
                               "signature": fields.get(HeaderFields.signature, ""),
                               "body": message.body})
        handler = getattr(self, f"on_{member}", None)
        if handler is None or (iface == SHORTCUTS and not self.with_shortcuts):
            self.conn.send(new_error(message, "org.freedesktop.DBus.Error.UnknownMethod",
                                     "s", (f"no {iface}.{member} here",)))
            return
        handler(message, path, sender)

    def respond(self, request_path: str, code: int, results: dict[str, Any]) -> None:
        emitter = DBusAddress(request_path, interface="org.freedesktop.portal.Request")
        self.conn.send(new_signal(emitter, "Response", "ua{sv}", (code, results)))

    @staticmethod
    def object_path(kind: str, sender: str, token: str) -> str:
        return f"{PORTAL_PATH}/{kind}/{sender[1:].replace('.', '_')}/{token}"

    # -- org.freedesktop.DBus.Properties --------------------------------------------------------

    def on_Get(self, message: Message, path: str, sender: str) -> None:
        iface, prop = message.body
        if iface == SHORTCUTS and prop == "version" and self.with_shortcuts:
            self.conn.send(new_method_return(message, "v", (("u", 1),)))
        else:
            self.conn.send(new_error(message, "org.freedesktop.DBus.Error.UnknownInterface",
                                     "s", (f"no {iface} here",)))

    # -- org.freedesktop.host.portal.Registry, .portal.Session/.Request -------------------------

    def on_Register(self, message: Message, path: str, sender: str) -> None:
        self.conn.send(new_method_return(message))

    def on_Close(self, message: Message, path: str, sender: str) -> None:
        self.session_owner.pop(path, None)
        self.bound.pop(path, None)
        self.conn.send(new_method_return(message))

    # -- org.freedesktop.portal.GlobalShortcuts ------------------------------------------------

    def on_CreateSession(self, message: Message, path: str, sender: str) -> None:
        (options,) = message.body
        request = self.object_path("request", sender, options["handle_token"][1])
        session = self.object_path("session", sender, options["session_handle_token"][1])
        self.session_owner[session] = sender
        self.conn.send(new_method_return(message, "o", (request,)))
        self.respond(request, 0, {"session_handle": ("s", session)})

    def on_BindShortcuts(self, message: Message, path: str, sender: str) -> None:
        session, shortcuts, _parent, options = message.body
        request = self.object_path("request", sender, options["handle_token"][1])
        self.conn.send(new_method_return(message, "o", (request,)))
        code = self.config["bind_response"]
        bound = [(sid, {"description": props["description"],
                        "trigger_description": ("s", self.config["triggers"].get(
                            sid, props.get("preferred_trigger", ("s", ""))[1]))})
                 for sid, props in shortcuts if sid not in self.config["refuse"]]
        if code == 0 and session in self.session_owner:
            self.bound[session] = [sid for sid, _ in bound]
        answer = (request, code, {"shortcuts": ("a(sa{sv})", bound)} if code == 0 else {})
        if self.config["hold"]:  # the dialog stays open until the test calls Release
            self.held.append(answer)
        else:
            self.respond(*answer)

    # -- the test's own interface -------------------------------------------------------------

    def on_Configure(self, message: Message, path: str, sender: str) -> None:
        self.config.update(json.loads(message.body[0]))
        self.conn.send(new_method_return(message))

    def on_Release(self, message: Message, path: str, sender: str) -> None:
        """The "user" answers the dialogs held so far; answers how many."""
        held, self.held = self.held, []
        for answer in held:
            self.respond(*answer)
        self.conn.send(new_method_return(message, "u", (len(held),)))

    def on_Calls(self, message: Message, path: str, sender: str) -> None:
        self.conn.send(new_method_return(message, "s", (json.dumps(self.calls),)))

    def on_Activate(self, message: Message, path: str, sender: str) -> None:
        """Press ``shortcut_id`` in every open session that bound it; answers how many."""
        (shortcut_id,) = message.body
        sessions = [s for s, ids in self.bound.items() if shortcut_id in ids]
        for session in sessions:
            signal = new_signal(DBusAddress(PORTAL_PATH, interface=SHORTCUTS), "Activated",
                                "osta{sv}", (session, shortcut_id, 1234, {}))
            # The real portal sends Activated to the session's owner only.
            signal.header.fields[HeaderFields.destination] = self.session_owner[session]
            self.conn.send(signal)
        self.conn.send(new_method_return(message, "u", (len(sessions),)))

if __name__ == "__main__":
    FakePortal(with_shortcuts="--without-global-shortcuts" not in sys.argv).run()

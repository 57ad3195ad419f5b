"""``nnscratch playground``: the local web app (see :mod:`nnscratch.playground`)."""

import sys

from .args import non_negative_int


def add_parser(sub):
    p = sub.add_parser(
        "playground",
        help="watch a network learn, live in the browser",
        description="Start the playground on this machine, print its URL and "
        "open it in the browser; Ctrl-C stops it.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; only requests naming it (or 127.0.0.1, "
        "localhost) are answered (default: %(default)s)",
    )
    p.add_argument(
        "--port",
        type=non_negative_int("port"),
        default=8000,
        help="port; 0 picks any free one (default: %(default)s)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=run)


def run(args):
    import webbrowser

    from ..errors import NnscratchError
    from ..playground import PlaygroundServer

    try:
        server = PlaygroundServer(args.host, args.port)
    except OSError as exc:
        raise NnscratchError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}): "
            "choose another --port, or 0 for any free one"
        ) from None
    print(f"nnscratch playground: {server.url}  (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("nnscratch playground: stopped", file=sys.stderr)
        return 130
    finally:
        server.server_close()
    return 0

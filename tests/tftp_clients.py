"""
The real TFTP clients Debian ships, as command lines: C{CLIENTS[name](port,
remoteName, localPath)} gives C{(executable, argv)} fetching from
L{HOST}.
"""

HOST = "127.0.0.1"


def _tftpHpa(*mode):
    return lambda port, name, out: (
        "tftp", ["tftp", *mode, HOST, str(port), "-c", "get", name, out]
    )


def _atftp(*options):
    extra = [arg for option in options for arg in ("--option", option)]
    return lambda port, name, out: (
        "atftp", ["atftp", *extra, "--get", "-r", name, "-l", out, HOST, str(port)]
    )


def _busybox(port, name, out):
    return "busybox", ["busybox", "tftp", "-g", "-r", name, "-l", out, HOST, str(port)]


def _curl(port, name, out):
    return "curl", ["curl", "-sS", "-o", out, f"tftp://{HOST}:{port}/{name}"]


CLIENTS = {
    "tftp-hpa-binary": _tftpHpa("-m", "binary"),
    "tftp-hpa-netascii": _tftpHpa("-m", "netascii"),
    "atftp-windowsize-8": _atftp("windowsize 8", "tsize 0"),
    "atftp-blksize-1468": _atftp("blksize 1468"),
    "busybox": _busybox,
    "busybox-blksize-1024": lambda port, name, out: (
        "busybox", ["busybox", "tftp", "-b", "1024", "-g", "-r", name, "-l", out, HOST, str(port)]
    ),
    "curl": _curl,
}

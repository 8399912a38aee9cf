"""The SFTP drop (role ``sftp``): per-tenant accounts chrooted to the tenant's import directory.

asyncssh is optional (extra ``sftp``); importing this package does not need it, starting the
server does (:func:`require_asyncssh` says how to install it).
"""

from hub.sftp._arrival import Arrival, file_arrived
from hub.sftp._passwords import hash_password, verify_password
from hub.sftp._server import SftpDrop, ensure_host_key, require_asyncssh, run_sftp

__all__ = [
    "Arrival",
    "SftpDrop",
    "ensure_host_key",
    "file_arrived",
    "hash_password",
    "require_asyncssh",
    "run_sftp",
    "verify_password",
]

"""Actor keys: RSA-2048 per local actor, generated on first use, the private key encrypted at rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.crypto import SecretBox
from hub.errors import ConfigurationError
from hub.federation._urls import ActorName
from hub.store import Database
from hub.store._tables import federation_actors

__all__ = ["LocalActor", "LocalActors", "generate_key_pair", "load_private_key"]


def generate_key_pair() -> tuple[str, str]:
    """A new RSA-2048 key pair as (public SubjectPublicKeyInfo PEM, private PKCS#8 PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return public, private


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError("actor keys must be RSA keys")
    return key


@dataclass(frozen=True, slots=True)
class LocalActor:
    """A local actor's row: its database id, name, tenant id and keys (private key decrypted on demand)."""

    id: int
    name: ActorName
    tenant_id: int | None
    public_key_pem: str
    _private_token: str
    _box: SecretBox

    @property
    def username(self) -> str:
        return self.name.username

    def private_key_pem(self) -> str:
        return str(self._box.decrypt(self._private_token)["pem"])


class LocalActors:
    """Local actor rows: found, or created with a fresh key pair on first use."""

    def __init__(self, db: Database, box: SecretBox | None) -> None:
        self.db = db
        self.box = box

    def _require_box(self) -> SecretBox:
        if self.box is None:
            raise ConfigurationError("federation needs the hub's secret key (it encrypts the actors' private keys)")
        return self.box

    def _row(self, row: object, name: ActorName) -> LocalActor:
        return LocalActor(row.id, name, row.tenant_id, row.public_key_pem, row.private_key,  # type: ignore[attr-defined]
                          self._require_box())

    async def find(self, name: ActorName) -> LocalActor | None:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(federation_actors).where(
                federation_actors.c.username == name.username))).first()
        return self._row(row, name) if row else None

    async def by_id(self, actor_id: int) -> LocalActor | None:
        from hub.federation._urls import parse_username

        async with self.db.connect() as conn:
            row = (await conn.execute(select(federation_actors).where(federation_actors.c.id == actor_id))).first()
        if row is None:
            return None
        name = parse_username(row.username)
        return self._row(row, name) if name else None

    async def ensure(self, name: ActorName, tenant_id: int | None) -> LocalActor:
        """The actor named ``name``, created (with a new key pair) when it does not exist yet."""
        found = await self.find(name)
        if found is not None:
            return found
        box = self._require_box()
        public, private = generate_key_pair()
        try:
            async with self.db.begin() as conn:
                await conn.execute(federation_actors.insert().values(
                    tenant_id=tenant_id, username=name.username, kind=name.kind, ref=name.ref,
                    public_key_pem=public, private_key=box.encrypt({"pem": private}), created_at=datetime.now(UTC)))
        except IntegrityError:  # created concurrently: use that one
            pass
        found = await self.find(name)
        assert found is not None
        return found

"""The shared contract suite every connector passes.

A connector's tests subclass :class:`ConnectorContract` (the subclass's name starts with ``Test``)
and set ``connector_class``, ``config`` and, for HTTP connectors, ``cassette_name``::

    class TestCanvasContract(ConnectorContract):
        connector_class = CanvasConnector
        config = {"base_url": "https://canvas.example.edu", "access_token": "test-token-1234"}
        cassette_name = "canvas_contract"

Config values that need a fixture (a temporary folder) come from overriding the
``connector_config`` fixture. Needs the ``hub.sdk.testkit.plugin`` fixtures (``cassette``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, aclosing, nullcontext
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from hub.sdk._connector import (
    CheckResult,
    Connector,
    ConnectorConfig,
    ConnectorKind,
    RawRecord,
    StreamSpec,
    StreamState,
    secret_fields,
)

__all__ = ["SECRET_NAME", "ConnectorContract"]

#: field names that must be typed SecretStr (``client_secret``, ``api_key``; not ``token_url``, ``api_key_name``)
SECRET_NAME = re.compile(
    r"(^|_)(pass|password|passphrase|secret|token|api_?key|private_?key|credentials?)$", re.IGNORECASE
)


def _secret_values(config: BaseModel) -> list[str]:
    values = []
    for name in secret_fields(type(config)):
        value = getattr(config, name)
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 4:
            values.append(value.get_secret_value())
    return values


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [f"{s[:2]}..." for s in secrets if s in text]


class ConnectorContract:
    """Base class of a connector's contract test; see the module docstring."""

    connector_class: ClassVar[type[Connector]]
    #: raw config, validated through ``connector_class.config_model``
    config: ClassVar[Mapping[str, Any]] = {}
    #: cassette (``cassettes/<name>.yaml`` next to the test) replayed around check() and read()
    cassette_name: ClassVar[str | None] = None
    #: records read per stream before moving on
    max_records: ClassVar[int] = 200

    # --- fixtures a subclass may override ---

    @pytest.fixture
    def connector_config(self) -> ConnectorConfig:
        return self.connector_class.config_model.model_validate(dict(self.config))

    @pytest.fixture
    def contract_secrets(self, connector_config: ConnectorConfig) -> list[str]:
        return _secret_values(connector_config)

    @pytest.fixture
    def vcr_secrets(self, contract_secrets: list[str]) -> list[str]:
        return contract_secrets

    @pytest.fixture
    def recording(self, request: pytest.FixtureRequest) -> Callable[[], AbstractContextManager[Any]]:
        if not self.cassette_name:
            return nullcontext
        use_cassette = request.getfixturevalue("cassette")
        return lambda: use_cassette(self.cassette_name)

    @pytest.fixture
    async def connector(self, connector_config: ConnectorConfig) -> AsyncIterator[Connector]:
        instance = self.connector_class(connector_config)
        try:
            yield instance
        finally:
            await instance.aclose()

    # --- the contract ---

    def test_identity(self) -> None:
        cls = self.connector_class
        assert isinstance(getattr(cls, "name", None), str) and re.fullmatch(r"[a-z][a-z0-9_]*", cls.name), (
            "connector name must be a lower_snake identifier"
        )
        assert isinstance(cls.kind, ConnectorKind), "kind must be a ConnectorKind"
        assert isinstance(cls.title, str) and cls.title.strip(), "title must be set"

    def test_config_model_is_frozen_and_strict(self, connector_config: ConnectorConfig) -> None:
        model = self.connector_class.config_model
        assert issubclass(model, ConnectorConfig), "config_model must derive from hub.sdk.ConnectorConfig"
        assert model.model_config.get("frozen") is True, "config model must be frozen"
        assert model.model_config.get("extra") == "forbid", "config model must forbid unknown keys"
        with pytest.raises(ValidationError):
            model.model_validate({**connector_config.model_dump(), "contract_unknown_key": 1})
        first = next(iter(model.model_fields), None)
        if first is not None:
            with pytest.raises(ValidationError):
                setattr(connector_config, first, getattr(connector_config, first))

    def test_secrets_are_secretstr_and_hidden(
        self, connector_config: ConnectorConfig, contract_secrets: list[str]
    ) -> None:
        model = self.connector_class.config_model
        untyped = [n for n in model.model_fields if SECRET_NAME.search(n) and n not in secret_fields(model)]
        assert not untyped, f"fields that hold secrets must be typed SecretStr: {untyped}"
        shown = " ".join([repr(connector_config), str(connector_config), connector_config.model_dump_json()])
        assert not _leaks(shown, contract_secrets), "a secret appears in repr/str/JSON of the config"

    def test_streams(self, connector: Connector) -> None:
        streams = list(connector.streams())
        assert streams, "streams() must offer at least one stream"
        names = [s.name for s in streams]
        assert len(set(names)) == len(names), f"stream names must be unique: {names}"
        for position, spec in enumerate(streams):
            assert isinstance(spec, StreamSpec)
            assert spec.name and spec.target, f"stream {spec.name!r} needs a name and a target type"
            unknown = [d for d in spec.depends_on if d not in names[:position]]
            assert not unknown, f"stream {spec.name!r} depends on streams not read before it: {unknown}"

    async def test_check(
        self,
        connector: Connector,
        recording: Callable[[], AbstractContextManager[Any]],
        contract_secrets: list[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        with recording():
            result = await connector.check()
        assert isinstance(result, CheckResult), "check() must return a CheckResult"
        assert isinstance(result.message, str) and result.message.strip(), "check() must explain its result"
        assert result.ok, f"check() failed against the recorded source: {result.message}"
        self._assert_no_leak(
            contract_secrets, caplog, [result.message, json.dumps(result.details, default=str)]
        )

    async def test_read_each_stream(
        self,
        connector: Connector,
        recording: Callable[[], AbstractContextManager[Any]],
        contract_secrets: list[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        texts: list[str] = []
        with recording():
            for spec in connector.streams():
                count = 0
                async with aclosing(connector.read(spec.name, StreamState())) as records:  # type: ignore[type-var]
                    async for record in records:
                        assert isinstance(record, RawRecord), f"{spec.name}: read() must yield RawRecord"
                        assert isinstance(record.ref, str) and record.ref.strip(), f"{spec.name}: empty ref"
                        assert isinstance(record.data, Mapping), f"{spec.name}: data must be a Mapping"
                        texts.append(
                            json.dumps(dict(record.data), default=str) + record.ref + (record.error or "")
                        )
                        count += 1
                        if count >= self.max_records:
                            break
        self._assert_no_leak(contract_secrets, caplog, texts)

    @staticmethod
    def _assert_no_leak(secrets: list[str], caplog: pytest.LogCaptureFixture, texts: list[str]) -> None:
        for record in caplog.records:
            shown = record.getMessage() + repr(record.__dict__)
            assert not _leaks(shown, secrets), f"a secret appears in log record {record.name}: {record.msg!r}"
        for text in texts:
            assert not _leaks(text, secrets), "a secret appears in a record or check result"

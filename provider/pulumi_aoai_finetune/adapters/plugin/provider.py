"""The provider plugin: Pulumi's resource-provider protocol over the controllers.

Served with the SDK's ``pulumi.provider.experimental`` (the only Python API for custom resources),
with the workarounds its defects need (each under test, ``tests/provider/adapters/test_plugin.py``):
- an output not known at preview is sent as the engine's sentinel string, never
  ``PropertyValue.computed()`` (which the SDK cannot marshal), and ``Computed`` values are never
  compared (their ``__eq__`` raises): :mod:`.wire` turns them into the sentinel on the way in;
- a read of a missing object answers with no properties at all, so ``pulumi refresh`` drops it and
  ``pulumi import <missing id>`` fails with "resource '<id>' does not exist" instead of importing an
  empty resource (:meth:`Servicer.Read`);
- errors reach the user as one line, without the Python traceback the SDK appends
  (:func:`_one_message`); a bug's traceback goes to the engine's debug channel, never to stderr,
  which the engine shows every user.

Controller calls block (a training wait lasts minutes): each runs in a thread, from a pool as wide as
the dynamic provider's, so deployments to many regions run at once. What a controller logs goes to
the engine, attached to the resource being worked on.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import grpc
import grpc.aio
import pulumi
import pulumi.runtime.settings
import yaml
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2_grpc

from ... import ids, schema
from ...controller import Controller, load_check_modules
from ...errors import AoaiFinetuneError
from ...settings import NAMESPACE, ProviderSettings, credentials_in_clear
from ..dynamic import PROVIDER_THREADS
from . import wire
from .pulumi_schema import package_schema

_current_urn: contextvars.ContextVar[str] = contextvars.ContextVar("aoai_finetune_urn", default="")


class PluginError(Exception):
    """A failure the user reads as one message."""


def controller_class(res: schema.Resource) -> type[Controller]:
    """The controller of a resource: ``<Name>Controller`` in ``pulumi_aoai_finetune.<module>``."""
    import importlib

    return getattr(importlib.import_module(f"pulumi_aoai_finetune.{res.module}"), f"{res.name}Controller")


def _plain_config(values: dict[str, Any]) -> dict[str, Any]:
    """Provider config (wire values or plain strings) keyed ``aoai-finetune:<key>``, as settings read it."""
    out = {}
    for key, value in values.items():
        key = key.split(":")[-1]  # "aoai-finetune:config:armEndpoint", "aoai-finetune:armEndpoint" or "armEndpoint"
        if hasattr(value, "value"):
            value = value.value
            if isinstance(value, float) and value.is_integer():
                value = int(value)
        if value is not None and not isinstance(value, (dict, list)):
            out[f"{NAMESPACE}:{key}"] = value
    return out


def _clear_in_stack_file(project_dir: str, urn: str) -> set[str]:
    """The keys the stack's config file (``Pulumi.<stack>.yaml``, in the project's ``stackConfigDir``)
    holds in clear. The engine hands CheckConfig secret and plain config alike, unmarked, so the file
    is what tells them apart; a file that cannot be read tells nothing (no warning)."""
    stack = urn.split("::")[0].rsplit(":", 1)[-1]
    try:
        project = yaml.safe_load((Path(project_dir) / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
        folder = Path(project_dir) / str(project.get("stackConfigDir") or ".")
        config = (yaml.safe_load((folder / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")) or {}).get("config")
    except (OSError, yaml.YAMLError, AttributeError):
        return set()
    if not isinstance(config, dict):
        return set()
    return {key for key, value in config.items() if isinstance(value, str)}


class AoaiFinetuneProvider(p.Provider):
    def __init__(self, version: str, cwd: str | None = None) -> None:
        self.version = version
        self.cwd = cwd or os.getcwd()  # the engine starts the plugin in the program's directory
        self._settings: ProviderSettings | None = None
        self._settings_error = ""

    # -- schema and configuration ------------------------------------------------------------------
    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        return p.GetSchemaResponse(schema=json.dumps(package_schema(self.version)))

    async def check_config(self, request: p.CheckRequest) -> p.CheckResponse:
        failures = []
        config = _plain_config(request.new_inputs)
        try:  # bad settings fail the preview, naming the key
            ProviderSettings.load(config)
        except AoaiFinetuneError as exc:
            failures.append(p.CheckFailure("", str(exc)))
        in_clear = _clear_in_stack_file(self.cwd, request.urn)
        for warning in credentials_in_clear(lambda key: key not in in_clear, config.get):
            token = _current_urn.set(request.urn)
            try:
                pulumi.log.warn(warning)
            finally:
                _current_urn.reset(token)
        return p.CheckResponse(inputs=request.new_inputs, failures=failures)

    async def diff_config(self, request: p.DiffRequest) -> p.DiffResponse:
        # settings say how to reach the service, not what the objects are: a change never replaces
        olds, news = _plain_config(request.old_state), _plain_config(request.new_inputs)
        changed = sorted(k.split(":")[-1] for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        return p.DiffResponse(changes=bool(changed), diffs=changed)

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        load_check_modules()
        config = {**_plain_config(dict(request.variables)), **_plain_config(request.args)}
        try:
            self._settings, self._settings_error = ProviderSettings.load(config), ""
        except AoaiFinetuneError as exc:
            self._settings_error = str(exc)
        return p.ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def cancel(self) -> None:
        """The engine's Cancel (Ctrl-C): every wait ends now with a message saying what goes on in the
        service (a job keeps training; the next `pulumi up` attaches to it)."""
        from ... import _wait

        _wait.request_stop()

    def _controller(self, res: schema.Resource) -> Controller:
        if self._settings_error:
            raise PluginError(self._settings_error)
        ctl = controller_class(res)(self._settings or ProviderSettings.load())
        ctl.live_reads = True
        return ctl

    # -- the lifecycle -------------------------------------------------------------------------------
    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        res = schema.resource(request.type)
        olds, _ = wire.from_wire(request.old_inputs, res)
        news, secret = wire.from_wire(request.new_inputs, res)
        failures = wire.unknown_inputs(news, res)
        try:
            ctl = self._controller(res)
        except PluginError as exc:
            return p.CheckResponse(inputs=request.new_inputs, failures=[p.CheckFailure("", str(exc))])
        news = ctl.accept_imported(olds, news)
        given = set(news)
        news = self._defaults(res, request.name, news, request.urn)
        inputs, found = await _run(request.urn, ctl.check, olds, news)
        if "project_dir" not in given:  # the program's own directory: not part of what it declares
            inputs.pop("project_dir", None)
        failures += [(wire.camel_path(field, res), wire.camel_text(reason, res)) for field, reason in found]
        return p.CheckResponse(inputs=wire.to_wire(inputs, res, secret),
                               failures=[p.CheckFailure(field, reason) for field, reason in failures])

    def _defaults(self, res: schema.Resource, name: str, news: dict[str, Any], urn: str = "") -> dict[str, Any]:
        """What the Python API fills in in the program, filled in here."""
        news = dict(news)
        if news.get("owner") is None and "owner" in {f.name for f in res.inputs}:
            from ...ownership import owner_from_urn

            owner = owner_from_urn(urn, res.name)
            if owner is not None:
                news["owner"] = owner
        if res is schema.MODEL_DEPLOYMENT and news.get("deployment_name") is None:
            news["deployment_name"] = name
        if res is schema.TRAINING_FILE:
            from ...training_file import resolve_local

            news["path"], news["project_dir"] = resolve_local(news.get("path"), news.get("project_dir"), self.cwd)
            if news["path"] is None:
                del news["path"]
        if res is schema.MODEL_EVALUATION:
            from ...training_file import resolve_local

            news["cases"], news["project_dir"] = resolve_local(news.get("cases"), news.get("project_dir"), self.cwd)
        if res is schema.FINE_TUNING_JOB:
            for key in ("training_file", "validation_file"):
                if key in news:
                    news[key] = ids.file_id(news[key])  # a TrainingFile's id (<account>/files/<id>) is accepted too
        return news

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        res = schema.resource(request.type)
        olds, _ = wire.from_wire(request.old_state, res)
        news, _ = wire.from_wire(request.new_inputs, res)
        d = await _run(request.urn, self._controller(res).diff, ids.controller_id(res, request.resource_id), olds, news)
        ignored = {path.split(".")[0].split("[")[0] for path in request.ignore_changes or ()}
        replaces = [k for k in dict.fromkeys(d.replaces) if schema.camel(k) not in ignored]
        updates = [k for k in dict.fromkeys(d.updates) if schema.camel(k) not in ignored and k not in replaces]
        detailed = {}
        for key in replaces + updates:
            old, new = olds.get(key), news.get(key)
            kind = ("ADD" if old is None else "DELETE" if new is None else "UPDATE") + ("_REPLACE" if key in replaces else "")
            field = wire.camel_path(key, res)
            detailed[field] = p.PropertyDiff(getattr(p.PropertyDiffKind, kind), True)
        if not detailed and wire.DYNAMIC_STATE in request.old_state:
            # a resource moved over from the dynamic resources (an alias), unchanged: one in-place update
            # rewrites its state in the plugin's names (so the program reads its outputs) and drops the
            # pickled dynamic provider; it calls the service for nothing (see update)
            detailed[wire.DYNAMIC_STATE] = p.PropertyDiff(p.PropertyDiffKind.DELETE, False)
        return p.DiffResponse(changes=bool(detailed), replaces=[wire.camel_path(k, res) for k in replaces],
                              diffs=list(detailed), detailed_diff=detailed,
                              delete_before_replace=d.delete_before_replace and bool(replaces))

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        res = schema.resource(request.type)
        inputs, secret = wire.from_wire(request.properties, res)
        ctl = self._controller(res)
        if request.preview:
            return p.CreateResponse(resource_id="", properties=wire.to_wire(ctl.preview_create(inputs), res, secret))
        inputs = _with_timeout(inputs, request.timeout)
        id_, outs = await _run(request.urn, ctl.create, inputs)
        return p.CreateResponse(resource_id=ids.long_id(res, id_, inputs["account"]),
                                properties=wire.to_wire(outs, res, secret))

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        res = schema.resource(request.type)
        props, secret = wire.from_wire(request.properties, res)
        inputs, input_secret = wire.from_wire(request.inputs, res)
        ctl = self._controller(res)
        if not props and not inputs:  # `pulumi import`: only the id is known
            cid, props = ids.parse_import_id(res, request.resource_id)
            found, outs = await _run(request.urn, ctl.read_for_import, cid, props)
            if found is None:
                return p.ReadResponse()
            recorded = {f.name for f in res.inputs + res.state}
            inputs = {k: v for k, v in outs.items() if k in recorded and v is not None}
            return p.ReadResponse(resource_id=request.resource_id, properties=wire.to_wire(outs, res),
                                  inputs=wire.to_wire(inputs, res))
        found, outs = await _run(request.urn, ctl.read, ids.controller_id(res, request.resource_id), props)
        if found is None:
            return p.ReadResponse()
        return p.ReadResponse(resource_id=request.resource_id, properties=wire.to_wire(outs, res, secret),
                              inputs=wire.to_wire(inputs, res, input_secret))

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        res = schema.resource(request.type)
        olds, old_secret = wire.from_wire(request.olds, res)
        news, secret = wire.from_wire(request.news, res)
        ctl = self._controller(res)
        cid = ids.controller_id(res, request.resource_id)
        if request.preview:  # known outputs at preview: what an in-place update keeps
            outs = ctl.preview_update(cid, olds, news)
        elif wire.DYNAMIC_STATE in request.olds and not (await _run(request.urn, ctl.diff, cid, olds, news)).changes:
            outs = {**olds, **news}  # the state of a dynamic resource, in the plugin's names: no call to make
        else:
            outs = await _run(request.urn, ctl.update, cid, olds, _with_timeout(news, request.timeout))
        return p.UpdateResponse(properties=wire.to_wire(outs, res, secret | old_secret))

    async def delete(self, request: p.DeleteRequest) -> None:
        res = schema.resource(request.type)
        props, _ = wire.from_wire(request.properties, res)
        await _run(request.urn, self._controller(res).delete, ids.controller_id(res, request.resource_id), props)


def _with_timeout(inputs: dict[str, Any], timeout: float) -> dict[str, Any]:
    """A create/update timeout set on the resource (customTimeouts) bounds the wait as well."""
    if timeout and timeout > 0 and isinstance(inputs.get("timeout_seconds"), (int, float)):
        return {**inputs, "timeout_seconds": min(float(inputs["timeout_seconds"]), float(timeout))}
    return inputs


async def _run(urn: str, fn: Callable, *args: Any) -> Any:
    """A controller call in a worker thread, its log lines attached to ``urn``; its errors as one message."""
    token = _current_urn.set(urn)
    try:
        return await asyncio.to_thread(_call, fn, *args)
    finally:
        _current_urn.reset(token)


def _call(fn: Callable, *args: Any) -> Any:
    try:
        return fn(*args)
    except AoaiFinetuneError as exc:
        raise PluginError(f"{type(exc).__name__}: {exc}") from None


def _debug(message: str, urn: str = "") -> None:
    """A message the engine shows only with ``--debug``, attached to the resource. Never stderr: the
    engine shows every line a plugin writes there to every user (as an info message)."""
    engine = pulumi.runtime.settings.get_engine()
    if engine is None:
        return
    try:
        engine.Log(engine_pb2.LogRequest(severity=engine_pb2.DEBUG, message=message, urn=urn))
    except Exception:  # noqa: BLE001 - the failure itself is still reported, as one message
        pass


def message_of(exc: BaseException, res_type: str = "", urn: str = "") -> str:
    """The one line a user reads for a failed call."""
    if isinstance(exc, PluginError):
        text = str(exc)
    elif isinstance(exc, AoaiFinetuneError):
        text = f"{type(exc).__name__}: {exc}"
    else:  # a bug of ours: say so; its traceback is for `pulumi up --debug`, not every user
        _debug("".join(traceback.format_exception(exc)), urn)
        text = (f"internal error of the aoai-finetune provider ({type(exc).__name__}: {exc}); please report it "
                "with what `--debug` shows")
    try:
        text = wire.camel_text(text, schema.resource(res_type))
    except KeyError:
        pass
    return text


def _one_message(method: Callable) -> Callable:
    """A servicer method whose failures reach the engine as the message alone (the SDK's own wrapper
    raises a new exception carrying a traceback; the original is its ``__context__``)."""
    async def wrapper(self, request, context):
        try:
            return await method(self, request, context)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one message
            # the SDK's wrapper raises a plain Exception (message + traceback) from the original
            original = exc.__context__ if type(exc) is Exception and exc.__context__ is not None else exc
            urn = getattr(request, "urn", "")
            res_type = urn.split("::")[-2] if "::" in urn else ""
            await context.abort(grpc.StatusCode.UNKNOWN, message_of(original, res_type, urn))

    wrapper.__name__ = getattr(method, "__name__", "call")
    return wrapper


class Servicer(ProviderServicer):
    Check = _one_message(ProviderServicer.Check)
    CheckConfig = _one_message(ProviderServicer.CheckConfig)
    Configure = _one_message(ProviderServicer.Configure)
    Diff = _one_message(ProviderServicer.Diff)
    DiffConfig = _one_message(ProviderServicer.DiffConfig)
    Create = _one_message(ProviderServicer.Create)
    Update = _one_message(ProviderServicer.Update)
    Delete = _one_message(ProviderServicer.Delete)
    GetSchema = _one_message(ProviderServicer.GetSchema)

    @_one_message
    async def Read(self, request, context):
        from pulumi.provider.experimental.property_value import PropertyValue

        resp = await self._provider.read(p.ReadRequest(
            request.urn, request.id, PropertyValue.unmarshal_map(request.properties),
            PropertyValue.unmarshal_map(request.inputs)))
        if not resp.resource_id:
            # gone: no properties at all (an empty struct would read as an object with no properties)
            return proto.ReadResponse(id="")
        return proto.ReadResponse(id=resp.resource_id, properties=PropertyValue.marshal_map(resp.properties),
                                  inputs=PropertyValue.marshal_map(resp.inputs))


class _EngineLog:
    """What ``pulumi.log`` calls send to the engine, attached to the resource being worked on."""

    def __init__(self, address: str) -> None:
        self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address, options=_GRPC_CHANNEL_OPTIONS))

    def Log(self, req):  # noqa: N802 - the EngineStub method name
        if not req.urn:
            req.urn = _current_urn.get()
        return self._stub.Log(req)

    def __getattr__(self, name: str):
        return getattr(self._stub, name)


def serve(args: list[str], version: str) -> None:
    """Start the gRPC server, print its port (the engine reads it), serve until the engine stops it."""
    import argparse

    parser = argparse.ArgumentParser(prog="pulumi-resource-aoai-finetune",
                                     description="Pulumi resource provider plugin for Azure OpenAI fine-tuning")
    parser.add_argument("engine", help="the Pulumi engine's address (the engine passes it)")
    known, _ = parser.parse_known_args(args)
    pulumi.runtime.settings.configure(pulumi.runtime.settings.Settings(
        project=None, stack=None, engine=_EngineLog(known.engine)))
    provider = AoaiFinetuneProvider(version)

    async def run() -> None:
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=PROVIDER_THREADS, thread_name_prefix="aoai-finetune"))
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(
            Servicer(args, version, provider, engine_address=known.engine), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


__all__ = ["AoaiFinetuneProvider", "Servicer", "serve"]

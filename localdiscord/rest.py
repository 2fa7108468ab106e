"""REST API v10: request pipeline (auth, faults, rate limits, spec validation) and handlers."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from multidict import MultiMapping

from .interactions import CallbackType, InteractionRecord, InteractionType
from .model import JSON, Channel, ChannelType, Message, MessageFlag, Permission
from .ratelimit import RequestRecord
from .spec_validation import BodyError, discord_error_body, spec_validator

if TYPE_CHECKING:
    from .local_discord import LocalDiscord

API_PREFIX = "/api/v10"
INTERACTION_ACK_SECONDS = 3.0
# Discord's upload limit per request in a server without boosts (10 MiB since 2024).
UPLOAD_LIMIT = 10 * 1024 * 1024
NONCE_WINDOW_SECONDS = 300.0
_INTENT_GUILD_MESSAGES = 1 << 9
_INTENT_DIRECT_MESSAGES = 1 << 12


class ApiError(Exception):
    """A Discord JSON error response; 400s are also reported as test problems."""

    def __init__(
        self, status: int, code: int, message: str, *, errors: Sequence[BodyError] = ()
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.details = [str(e) for e in errors]
        self.body: JSON = {"code": code, "message": message}
        if errors:
            self.body["errors"] = discord_error_body(list(errors))["errors"]


def unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


@dataclass
class ApiRequest:
    method: str
    template: str
    params: dict[str, str]
    query: MultiMapping[str]
    body: Any = None
    files: list[JSON] = field(default_factory=list)

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(400, 50035, f"Invalid Form Body: {name} is not a snowflake") from None


@dataclass
class ApiResponse:
    body: Any
    status: int = 200


Handler = Callable[["RestApi", ApiRequest], Awaitable[Any]]
ROUTES: list[tuple[str, str, Handler]] = []


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    """Registers a handler; ``template`` is the spec's path key, used to find the schema."""

    def register(handler: Handler) -> Handler:
        ROUTES.append((method, template, handler))
        return handler

    return register


def _needs_auth(template: str) -> bool:
    # Interaction callbacks and webhook-token routes are authorised by the token in the path.
    return not (
        template.startswith("/interactions/")
        or template.startswith("/webhooks/{webhook_id}/{webhook_token}")
    )


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only decodes JSON when Content-Type is exactly "application/json" (no charset).
    if status == 204 or body is None:
        return web.Response(status=204, headers=headers)
    data = json.dumps(body).encode()
    return web.Response(
        status=status, body=data, headers={**(headers or {}), "Content-Type": "application/json"}
    )


class RestApi:
    """The request pipeline plus one method per Discord route."""

    def __init__(self, core: LocalDiscord) -> None:
        self.core = core
        self.world = core.world

    def add_routes(self, app: web.Application) -> None:
        for method, template, handler in ROUTES:
            app.router.add_route(method, API_PREFIX + template, self._make_view(template, handler))
        app.router.add_route("*", "/{tail:.*}", self._unknown_route)

    def _make_view(
        self, template: str, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def view(request: web.Request) -> web.StreamResponse:
            return await self._process(request, template, handler)

        return view

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        record = RequestRecord(request.method, request.path, None, time.monotonic(), 404)
        self.core.requests.append(record)
        self.core.report(
            f"unknown route: {request.method} {request.path} (add it to localdiscord/rest.py)"
        )
        return _json_response(404, {"message": "404: Not Found", "code": 0})

    async def _process(
        self, request: web.Request, template: str, handler: Handler
    ) -> web.StreamResponse:
        method = request.method
        params = {k: unquote(v) for k, v in request.match_info.items()}
        record = RequestRecord(method, request.path, template, time.monotonic())
        self.core.requests.append(record)
        authed = _needs_auth(template)
        limiter = self.core.limiter
        try:
            if authed and request.headers.get("Authorization") != f"Bot {self.core.token}":
                self.core.report(f"{method} {template}: missing or wrong Authorization header")
                raise ApiError(401, 0, "401: Unauthorized")
            rejection = limiter.check(method, template, params, authed=authed)
            if rejection is not None:
                record.status = rejection.status
                return _json_response(rejection.status, rejection.body, rejection.headers)
            api_request = await self._parse(request, template, params)
            record.body = api_request.body
            self._validate(api_request, request.content_type)
            hang = self.core.take_hang(method, template, params)
            if hang is not None and not hang.handled:
                self.core.notify()
                await hang.wait()
            result = await handler(self, api_request)
            if hang is not None and hang.handled:
                self.core.notify()
                await hang.wait()
            response = result if isinstance(result, ApiResponse) else ApiResponse(result)
            status, body = response.status, response.body
        except ApiError as error:
            status, body = error.status, error.body
            if status == 400:
                detail = "; ".join(error.details) or error.body["message"]
                self.core.report(f"{method} {template} rejected ({error.body['code']}): {detail}")
        record.status = status
        self.core.notify()
        return _json_response(
            status, body, limiter.headers_for(method, template, params, authed=authed)
        )

    async def _parse(
        self, request: web.Request, template: str, params: dict[str, str]
    ) -> ApiRequest:
        api_request = ApiRequest(request.method, template, params, request.query)
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    api_request.body = json.loads(await part.text())
                else:
                    data = await part.read()
                    api_request.files.append(
                        {
                            "field": part.name,
                            "filename": part.filename or "file",
                            "size": len(data),
                            "data": bytes(data),
                            "content_type": part.headers.get(
                                "Content-Type", "application/octet-stream"
                            ),
                        }
                    )
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                if request.content_type != "application/json":
                    raise ApiError(
                        400, 50035, f"Expected application/json, got {request.content_type}"
                    )
                try:
                    api_request.body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
        return api_request

    def _validate(self, api_request: ApiRequest, content_type: str) -> None:
        if api_request.method not in ("POST", "PUT", "PATCH"):
            return
        media = (
            "multipart/form-data" if content_type == "multipart/form-data" else "application/json"
        )
        errors: list[BodyError] = spec_validator().validate(
            api_request.method, api_request.template, api_request.body, media=media
        )
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors=errors)

    # ---- helpers -------------------------------------------------------------------------

    def channel(self, request: ApiRequest) -> Channel:
        channel = self.world.channel(request.int_param("channel_id"))
        if channel is None:
            raise unknown("Channel", 10003)
        return channel

    def bot_permissions(self, channel: Channel) -> int:
        if channel.guild is None:
            return ~0
        return channel.guild.me.permissions_in(channel)

    def require(self, channel: Channel, needed: int) -> None:
        perms = self.bot_permissions(channel)
        if not perms & Permission.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        if perms & needed != needed:
            raise ApiError(403, 50013, "Missing Permissions")

    def message(self, channel: Channel, message_id: int) -> Message:
        message = self.world.messages.get(message_id)
        if message is None or message.deleted or message.channel is not channel:
            raise unknown("Message", 10008)
        return message

    def attachments(self, request: ApiRequest, body: JSON | None = None) -> list[JSON]:
        """Attachment objects for uploaded files, named as the body's ``attachments`` describe them."""
        source = (request.body or {}) if body is None else body
        described = {str(a.get("id")): a for a in source.get("attachments") or []}
        total = sum(upload["size"] for upload in request.files)
        if total > self.core.upload_limit:
            raise ApiError(413, 40005, "Request entity too large")
        result = []
        for index, upload in enumerate(request.files):
            meta = described.get(str(index), {})
            attachment_id = self.world.ids.next()
            # Kept so a test can open what the bot uploaded (`LocalDiscord.attachment_data`).
            self.core.uploads[str(attachment_id)] = upload["data"]
            url = f"{self.core.base_url}/attachments/{attachment_id}/{upload['filename']}"
            result.append(
                {
                    "id": str(attachment_id),
                    "filename": meta.get("filename") or upload["filename"],
                    "size": upload["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": upload["content_type"],
                    "description": meta.get("description"),
                }
            )
        return result

    def link_attachments(self, message: Message) -> None:
        """What Discord does with `attachment://name` in an embed's image or thumbnail: point it
        at the message's attachment of that name. A name the message does not carry shows as a
        broken image on Discord, so it is a problem here."""
        by_name = {a["filename"]: a for a in message.attachments}
        for embed in message.embeds:
            for slot in ("image", "thumbnail"):
                target = embed.get(slot)
                url = str((target or {}).get("url") or "")
                if not url.startswith("attachment://"):
                    continue
                found = by_name.get(url.removeprefix("attachment://"))
                if found is None:
                    self.core.report(
                        f"an embed's {slot} refers to {url}, which message {message.id} does not carry"
                    )
                    continue
                embed[slot] = {
                    **target,
                    "url": found["url"],
                    "proxy_url": found["proxy_url"],
                }

    def emit_message(self, event: str, message: Message) -> None:
        intent = (
            _INTENT_DIRECT_MESSAGES if message.channel.guild is None else _INTENT_GUILD_MESSAGES
        )
        if self.core.gateway.intents & intent and not message.ephemeral:
            self.world.emit(event, message.payload())

    def interaction_by_token(self, request: ApiRequest) -> InteractionRecord:
        if request.params["webhook_id"] != str(self.world.bot_user.id):
            raise unknown("Webhook", 10015)
        record = self.core.interactions_by_token.get(request.params["webhook_token"])
        if record is None:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return record

    def interaction_message(self, record: InteractionRecord, message_id: str) -> Message:
        if message_id == "@original":
            message = record.original
        else:
            candidates = [record.original, record.source_message, *record.followups]
            message = next(
                (m for m in candidates if m is not None and str(m.id) == message_id), None
            )
        if message is None or message.deleted:
            raise unknown("Message", 10008)
        return message


# ---- gateway -------------------------------------------------------------------------------


@route("GET", "/gateway")
async def get_gateway(api: RestApi, request: ApiRequest) -> Any:
    return {"url": api.core.gateway_url}


@route("GET", "/gateway/bot")
async def get_bot_gateway(api: RestApi, request: ApiRequest) -> Any:
    # The URL to connect to, the shard count Discord recommends, and how many sessions may start.
    return {
        "url": api.core.gateway_url,
        "shards": api.core.recommended_shards,
        "session_start_limit": api.core.gateway.session_start_limit(),
    }


# ---- users and application ---------------------------------------------------------------


@route("GET", "/users/@me")
async def get_me(api: RestApi, request: ApiRequest) -> Any:
    return {**api.world.bot_user.payload(), "verified": True, "mfa_enabled": False, "email": None}


@route("GET", "/users/{user_id}")
async def get_user(api: RestApi, request: ApiRequest) -> Any:
    user = api.world.users.get(request.int_param("user_id"))
    if user is None:
        raise unknown("User", 10013)
    return user.payload()


@route("GET", "/oauth2/applications/@me")
async def get_application(api: RestApi, request: ApiRequest) -> Any:
    bot = api.world.bot_user
    owner = api.world.users.get(api.core.app_owner_id) or bot
    return {
        "id": str(bot.id),
        "name": bot.name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "owner": owner.payload(),
        "team": None,
        "bot": bot.payload(),
        "rpc_origins": [],
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "approximate_guild_count": len(api.world.guilds),
    }


@route("POST", "/users/@me/channels")
async def create_dm(api: RestApi, request: ApiRequest) -> Any:
    user = api.world.users.get(int(request.body["recipient_id"]))
    if user is None:
        raise unknown("User", 10013)
    return api.world.dm_channel(user).payload()


# ---- application commands ----------------------------------------------------------------


def _command_scope(api: RestApi, request: ApiRequest) -> int | None:
    if request.params["application_id"] != str(api.world.bot_user.id):
        raise unknown("Application", 10002)
    if "guild_id" not in request.params:
        return None
    guild_id = request.int_param("guild_id")
    if guild_id not in api.world.guilds:
        raise ApiError(403, 50001, "Missing Access")
    return guild_id


@route("PUT", "/applications/{application_id}/commands")
@route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
async def overwrite_commands(api: RestApi, request: ApiRequest) -> Any:
    scope = _command_scope(api, request)
    stored = api.core.commands.overwrite(scope, list(request.body or []))
    return stored


@route("POST", "/applications/{application_id}/commands")
@route("POST", "/applications/{application_id}/guilds/{guild_id}/commands")
async def upsert_command(api: RestApi, request: ApiRequest) -> Any:
    scope = _command_scope(api, request)
    return ApiResponse(api.core.commands.upsert(scope, request.body), 201)


@route("GET", "/applications/{application_id}/commands")
@route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
async def list_commands(api: RestApi, request: ApiRequest) -> Any:
    return api.core.commands.scope(_command_scope(api, request))


# ---- interactions ------------------------------------------------------------------------


_ALLOWED_CALLBACKS = {
    InteractionType.APPLICATION_COMMAND: {4, 5, 9},
    InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
    InteractionType.AUTOCOMPLETE: {8},
}


@route("POST", "/interactions/{interaction_id}/{interaction_token}/callback")
async def interaction_callback(api: RestApi, request: ApiRequest) -> Any:
    core = api.core
    record = core.interactions.get(request.int_param("interaction_id"))
    if record is None or record.token != request.params["interaction_token"]:
        raise unknown("interaction", 10062)
    if record.callback_type is not None:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if time.monotonic() - record.created > core.interaction_ack_seconds:
        core.report(f"interaction {record.id} acknowledged after {core.interaction_ack_seconds}s")
        raise unknown("interaction", 10062)
    body: JSON = request.body or {}
    kind = int(body["type"])
    if kind not in _ALLOWED_CALLBACKS.get(record.type, set()):
        raise ApiError(
            400, 50035, f"Callback type {kind} is not valid for interaction type {record.type}"
        )
    data: JSON = body.get("data") or {}
    bot = api.world.bot_user
    message: Message | None = None
    if kind in (CallbackType.CHANNEL_MESSAGE, CallbackType.DEFERRED_CHANNEL_MESSAGE):
        flags = int(data.get("flags") or 0) & MessageFlag.EPHEMERAL
        if kind == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            flags |= MessageFlag.LOADING
            data = {}
        message = api.world.new_message(record.channel, bot, data, flags=flags)
        message.attachments = api.attachments(request, data)
        api.link_attachments(message)
        message.type = 20 if record.type == InteractionType.APPLICATION_COMMAND else 0
        message.webhook_id = bot.id
        message.interaction_metadata = {
            "id": str(record.id),
            "type": record.type,
            "user": record.user.payload(),
            "authorizing_integration_owners": record.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        record.original = message
        api.emit_message("MESSAGE_CREATE", message)
    elif kind in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
        message = record.source_message
        assert message is not None
        if kind == CallbackType.UPDATE_MESSAGE:
            message.apply(data)
            message.attachments += api.attachments(request, data)
            api.link_attachments(message)
            api.emit_message("MESSAGE_UPDATE", message)
        record.original = message
    elif kind == CallbackType.AUTOCOMPLETE_RESULT:
        record.choices = list(data.get("choices") or [])
    elif kind == CallbackType.MODAL:
        record.modal = data
    record.callback_type = kind
    if request.query.get("with_response") not in ("1", "true", "True"):
        return None
    interaction: JSON = {
        "id": str(record.id),
        "type": record.type,
        "response_message_loading": kind == CallbackType.DEFERRED_CHANNEL_MESSAGE,
        "response_message_ephemeral": bool(message and message.ephemeral),
    }
    result: JSON = {"interaction": interaction}
    if message is not None:
        interaction["response_message_id"] = str(message.id)
        result["resource"] = {"type": kind, "message": message.payload()}
    return result


@route("POST", "/webhooks/{webhook_id}/{webhook_token}")
async def create_followup(api: RestApi, request: ApiRequest) -> Any:
    record = api.interaction_by_token(request)
    if record.callback_type is None:
        api.core.report(f"follow-up for interaction {record.id} before it was acknowledged")
        raise unknown("Webhook", 10015)
    body: JSON = request.body or {}
    original = record.original
    if original is not None and original.loading and not original.deleted:
        # The first follow-up after a defer replaces the "thinking" message and keeps its flags
        # (once that message is deleted, a follow-up is a message of its own, flags included).
        original.apply(body)
        original.attachments += api.attachments(request)
        api.link_attachments(original)
        message = original
        api.emit_message("MESSAGE_UPDATE", message)
    else:
        channel = record.channel
        if "thread_id" in request.query:
            thread = api.world.channel(int(request.query["thread_id"]))
            if thread is None:
                raise unknown("Channel", 10003)
            channel = thread
        flags = int(body.get("flags") or 0) & MessageFlag.EPHEMERAL
        message = api.world.new_message(channel, api.world.bot_user, body, flags=flags)
        message.attachments = api.attachments(request)
        api.link_attachments(message)
        message.webhook_id = api.world.bot_user.id
        api.emit_message("MESSAGE_CREATE", message)
    record.followups.append(message)
    if request.query.get("wait") in ("1", "true", "True"):
        return message.payload()
    return None


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def get_interaction_message(api: RestApi, request: ApiRequest) -> Any:
    record = api.interaction_by_token(request)
    return api.interaction_message(record, request.params.get("message_id", "@original")).payload()


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def edit_interaction_message(api: RestApi, request: ApiRequest) -> Any:
    record = api.interaction_by_token(request)
    message = api.interaction_message(record, request.params.get("message_id", "@original"))
    message.apply(request.body or {})
    message.attachments += api.attachments(request)
    api.link_attachments(message)
    api.emit_message("MESSAGE_UPDATE", message)
    return message.payload()


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def delete_interaction_message(api: RestApi, request: ApiRequest) -> Any:
    record = api.interaction_by_token(request)
    message = api.interaction_message(record, request.params.get("message_id", "@original"))
    message.deleted = True
    return None


# ---- channels and messages ---------------------------------------------------------------


@route("GET", "/channels/{channel_id}")
async def get_channel(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    api.require(channel, Permission.VIEW_CHANNEL)
    return channel.payload()


@route("POST", "/channels/{channel_id}/typing")
async def trigger_typing(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    api.require(
        channel,
        Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES,
    )
    return None


@route("POST", "/channels/{channel_id}/messages")
async def create_message(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    api.require(
        channel,
        (Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES)
        # Discord refuses a message that carries files without Attach Files (403, 50013).
        | (Permission.ATTACH_FILES if request.files else 0),
    )
    body: JSON = request.body or {}
    nonce = body.get("nonce")
    if nonce is not None and body.get("enforce_nonce"):
        seen = channel.nonces.get(str(nonce))
        if seen is not None and time.monotonic() - seen[1] < NONCE_WINDOW_SECONDS:
            return seen[0].payload()
    if (
        not any(body.get(k) for k in ("content", "embeds", "components", "sticker_ids", "poll"))
        and not request.files
    ):
        raise ApiError(400, 50006, "Cannot send an empty message")
    reference: JSON | None = None
    if body.get("message_reference"):
        ref = body["message_reference"]
        target = api.world.messages.get(int(ref["message_id"]))
        if target is None or target.deleted:
            if ref.get("fail_if_not_exists", True):
                raise ApiError(400, 50035, "Invalid Form Body: Unknown message")
        else:
            reference = {
                "type": 0,
                "message_id": str(target.id),
                "channel_id": str(target.channel.id),
            }
            if target.channel.guild is not None:
                reference["guild_id"] = str(target.channel.guild.id)
    if channel.is_thread and channel.archived:
        if channel.locked:
            raise ApiError(400, 50083, "Thread is archived")
        channel.archived = False
    message = api.world.new_message(channel, api.world.bot_user, body)
    message.flags &= ~(MessageFlag.EPHEMERAL | MessageFlag.LOADING)
    message.attachments = api.attachments(request)
    api.link_attachments(message)
    if reference is not None:
        message.message_reference, message.type = reference, 19
    if nonce is not None:
        message.nonce = str(nonce)
        channel.nonces[str(nonce)] = (message, time.monotonic())
    api.emit_message("MESSAGE_CREATE", message)
    return message.payload()


@route("GET", "/channels/{channel_id}/messages")
async def list_messages(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    api.require(channel, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
    limit = max(1, min(int(request.query.get("limit", "50")), 100))
    messages = channel.visible_messages()
    if "before" in request.query:
        messages = [m for m in messages if m.id < int(request.query["before"])]
    if "after" in request.query:
        messages = [m for m in messages if m.id > int(request.query["after"])][:limit]
    if "around" in request.query:
        pivot = int(request.query["around"])
        older = [m for m in messages if m.id <= pivot][-(limit // 2 + 1) :]
        newer = [m for m in messages if m.id > pivot][: limit - len(older)]
        messages = older + newer
    return [m.payload() for m in reversed(messages[-limit:])]


@route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    api.require(channel, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
    return api.message(channel, request.int_param("message_id")).payload()


@route("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    message = api.message(channel, request.int_param("message_id"))
    if message.author is not api.world.bot_user:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    if request.files:
        api.require(channel, Permission.ATTACH_FILES)
    message.apply(request.body or {})
    message.attachments += api.attachments(request)
    api.link_attachments(message)
    api.emit_message("MESSAGE_UPDATE", message)
    return message.payload()


@route("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    message = api.message(channel, request.int_param("message_id"))
    if message.author is not api.world.bot_user:
        api.require(channel, Permission.MANAGE_MESSAGES)
    message.deleted = True
    if channel.guild is not None:
        payload = {
            "id": str(message.id),
            "channel_id": str(channel.id),
            "guild_id": str(channel.guild.id),
        }
        api.world.emit("MESSAGE_DELETE", payload)
    return None


@route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
async def add_reaction(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    api.require(
        channel,
        Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY | Permission.ADD_REACTIONS,
    )
    message = api.message(channel, request.int_param("message_id"))
    if request.params["emoji_name"] not in message.reactions:
        message.reactions.append(request.params["emoji_name"])
    return None


@route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
async def remove_reaction(api: RestApi, request: ApiRequest) -> Any:
    channel = api.channel(request)
    message = api.message(channel, request.int_param("message_id"))
    if request.params["emoji_name"] in message.reactions:
        message.reactions.remove(request.params["emoji_name"])
    return None


# ---- threads -----------------------------------------------------------------------------


@route("POST", "/channels/{channel_id}/threads")
async def create_thread(api: RestApi, request: ApiRequest) -> Any:
    parent = api.channel(request)
    body: JSON = request.body or {}
    forum = parent.type == ChannelType.GUILD_FORUM
    kind = (
        ChannelType.PUBLIC_THREAD
        if forum
        else ChannelType(int(body.get("type") or ChannelType.PRIVATE_THREAD))
    )
    if (
        parent.is_thread
        or parent.guild is None
        or kind not in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)
    ):
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    needed = (
        Permission.CREATE_PUBLIC_THREADS
        if kind == ChannelType.PUBLIC_THREAD
        else Permission.CREATE_PRIVATE_THREADS
    )
    api.require(
        parent,
        needed
        | (Permission.SEND_MESSAGES if forum else 0)
        | (Permission.ATTACH_FILES if forum and request.files else 0),
    )
    thread = api.world.new_thread(
        parent,
        body["name"],
        kind,
        owner_id=api.world.bot_user.id,
        auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
    )
    result = thread.payload()
    if forum and body.get("message"):
        first = api.world.new_message(thread, api.world.bot_user, body["message"], flags=0)
        first.attachments = api.attachments(request)
        api.link_attachments(first)
        result["message"] = first.payload()
    return ApiResponse(result, 201)


@route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
async def create_thread_from_message(api: RestApi, request: ApiRequest) -> Any:
    parent = api.channel(request)
    message = api.message(parent, request.int_param("message_id"))
    if parent.is_thread or parent.guild is None:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    api.require(parent, Permission.CREATE_PUBLIC_THREADS)
    if message.thread is not None:
        raise ApiError(400, 160004, "A thread has already been created for this message")
    body: JSON = request.body or {}
    # Discord gives a thread started from a message the message's id.
    thread = api.world.new_thread(
        parent,
        body["name"],
        ChannelType.PUBLIC_THREAD,
        owner_id=api.world.bot_user.id,
        thread_id=message.id,
        auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
    )
    message.thread = thread
    return ApiResponse(thread.payload(), 201)


# ---- guilds ------------------------------------------------------------------------------


def _guild(api: RestApi, request: ApiRequest) -> Any:
    guild = api.world.guilds.get(request.int_param("guild_id"))
    if guild is None:
        raise unknown("Guild", 10004)
    return guild


@route("GET", "/guilds/{guild_id}")
async def get_guild(api: RestApi, request: ApiRequest) -> Any:
    guild = _guild(api, request)
    data: JSON = guild.payload()
    if request.query.get("with_counts") in ("1", "true", "True"):
        data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
    return data


@route("GET", "/guilds/{guild_id}/channels")
async def list_guild_channels(api: RestApi, request: ApiRequest) -> Any:
    return [c.payload() for c in _guild(api, request).channels if not c.is_thread]


@route("GET", "/guilds/{guild_id}/roles")
async def list_roles(api: RestApi, request: ApiRequest) -> Any:
    return [r.payload() for r in _guild(api, request).roles.values()]


@route("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(api: RestApi, request: ApiRequest) -> Any:
    member = _guild(api, request).members.get(request.int_param("user_id"))
    if member is None:
        raise unknown("Member", 10007)
    return member.payload()

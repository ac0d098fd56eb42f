"""The room's side of media: who sends and who only watches, how a tile is labelled, and the
signalling requests the room socket relays to the room's media worker (``rtc/signalling.py``).

Experts, the leader, the host, attendants and the reviewer send and receive; supervisors receive
only (DESIGN.md §1: never seen or heard, so never a tile); bidders never reach the room socket at
all. A participant is the user: a second tab or a reconnected page takes over the same participant.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evaluation.audit import record_event
from evaluation.events import broadcast, session_group
from evaluation.exceptions import Refused
from evaluation.models import EvaluationSession, Venue
from evaluation.permissions import Actor, Role, require_role, session_roles, signed_in
from evaluation.phases import ACTIONS, ACTIVE_PHASES, ActionRule, Phase, not_in_phase
from rooms.presence import make_store
from rooms.protocol import ErrorCode, ProtocolError, RtcCandidate, RtcMute, RtcOffer
from rooms.snapshot import Viewer
from rtc import signalling
from rtc.ice import browser_ice_servers
from rtc.protocol import ErrorCode as MediaCode
from rtc.protocol import MediaError

PUBLISHERS = frozenset({Role.HOST, Role.ATTENDANT, Role.MEMBER, Role.LEADER, Role.REVIEWER})
RECEIVERS = PUBLISHERS | {Role.SUPERVISOR}
# The role a tile names, the first that applies.
TILE_ROLES = (Role.LEADER, Role.MEMBER, Role.HOST, Role.ATTENDANT, Role.REVIEWER)
_CODES = {
    MediaCode.INVALID: ErrorCode.INVALID,
    MediaCode.FORBIDDEN: ErrorCode.FORBIDDEN,
    MediaCode.CONFLICT: ErrorCode.CONFLICT,
    MediaCode.UNAVAILABLE: ErrorCode.UNAVAILABLE,
}


def participant_of(user: int) -> str:
    return f"u{user}"


def can_publish(roles: frozenset[Role]) -> bool:
    # A supervisor is receive-only whatever else they hold (conflicting roles are refused anyway).
    return bool(roles & PUBLISHERS) and Role.SUPERVISOR not in roles


def can_receive(roles: frozenset[Role]) -> bool:
    return bool(roles & RECEIVERS)


def _venue_city(venue: int | None) -> str:
    if venue is None:
        return ""
    return Venue.objects.filter(pk=venue).values_list("city", flat=True).first() or ""


async def _display(viewer: Viewer) -> dict[str, Any]:
    role = next((r for r in TILE_ROLES if r in viewer.roles), Role.SUPERVISOR)
    city = await database_sync_to_async(_venue_city)(viewer.venue)
    return {"user": viewer.user, "name": viewer.name, "venue": city, "role": role.value}


async def _request(session_id: int, ref: str | None, op: str, **fields: Any) -> dict[str, Any]:
    try:
        return await signalling.request(session_id, session_group(session_id), op, **fields)
    except MediaError as exc:
        message = exc.message
        if exc.code == MediaCode.UNAVAILABLE:
            message = gettext("the media server is not available: the page tries again by itself")
        raise ProtocolError(_CODES.get(exc.code, ErrorCode.INTERNAL), message, ref) from None


def _require_receiver(viewer: Viewer, ref: str | None) -> None:
    if not can_receive(viewer.roles):
        raise ProtocolError(ErrorCode.FORBIDDEN, gettext("you take no part in this room's audio and video"), ref)


def _require_host(viewer: Viewer, ref: str | None) -> None:
    if Role.HOST not in viewer.roles:
        raise ProtocolError(ErrorCode.FORBIDDEN, gettext("only the host may do this"), ref)


async def offer(session_id: int, viewer: Viewer, message: RtcOffer) -> dict[str, Any]:
    """The worker's answer (``sdp``) and the room's media state, for ``rtc.answer``."""
    _require_receiver(viewer, message.id)
    return await _request(
        session_id,
        message.id,
        "offer",
        participant=participant_of(viewer.user),
        sdp=message.sdp,
        can_publish=can_publish(viewer.roles),
        display=await _display(viewer),
    )


async def candidate(session_id: int, viewer: Viewer, message: RtcCandidate) -> None:
    _require_receiver(viewer, message.id)
    await _request(
        session_id,
        message.id,
        "candidate",
        participant=participant_of(viewer.user),
        candidate=message.candidate,
        sdp_mid=message.sdp_mid,
        sdp_mline_index=message.sdp_mline_index,
    )


async def leave(session_id: int, viewer: Viewer, ref: str | None = None) -> None:
    await _request(session_id, ref, "leave", participant=participant_of(viewer.user))


async def mute(session_id: int, viewer: Viewer, message: RtcMute) -> None:
    if not can_publish(viewer.roles):
        raise ProtocolError(ErrorCode.FORBIDDEN, gettext("you do not send audio or video in this room"), message.id)
    await _request(
        session_id,
        message.id,
        "mute",
        participant=participant_of(viewer.user),
        audio_muted=message.audio_muted,
        video_muted=message.video_muted,
    )


async def pin(session_id: int, viewer: Viewer, ref: str | None, user: int | None) -> None:
    _require_host(viewer, ref)
    await _request(session_id, ref, "pin", participant=participant_of(user) if user is not None else None)


_leaving: set[asyncio.Task[None]] = set()


def leave_later(session_id: int, viewer: Viewer) -> None:
    """The socket that joined the media closed: unless the user is back in the room within
    ``RTC_LEAVE_GRACE_SECONDS`` (a reconnecting page), their media ends, as it would for a page that
    said ``rtc.leave`` before it went. A browser that vanished is not left holding streams until ICE
    notices, and the others' tiles do not wait for it."""

    async def later() -> None:
        await asyncio.sleep(settings.RTC_LEAVE_GRACE_SECONDS)
        store = make_store()
        try:
            back = any(c.user == viewer.user for c in await store.connections(session_id))
        finally:
            await store.close()
        if not back:
            with contextlib.suppress(ProtocolError):
                await leave(session_id, viewer)

    task = asyncio.create_task(later())
    _leaving.add(task)
    task.add_done_callback(_leaving.discard)


async def cancel_pending_leaves() -> None:
    """Tests: end the grace timers of this loop."""
    for task in list(_leaving):
        task.cancel()
    await asyncio.gather(*_leaving, return_exceptions=True)


PLEASE_MUTE_EVENT = "rtc.please_mute"
ASK_TO_MUTE = ActionRule(
    "ask_to_mute",
    ACTIVE_PHASES | {Phase.SUSPENDED},
    frozenset({Role.HOST}),
    "ask a participant of the room's audio to turn the microphone off (their page does, and says who asked)",
)


@transaction.atomic
def do_ask_to_mute(session_id: int, actor: Actor, user_id: int) -> None:
    """The host asks ``user_id`` to turn their microphone off: audited, then sent to that participant."""
    session = EvaluationSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise Refused(gettext("session %(pk)s does not exist") % {"pk": session_id}, code="not_found")
    rule = ACTIONS[ASK_TO_MUTE.name]
    if session.phase not in rule.phases:
        raise Refused(not_in_phase(rule.name, session), code="wrong_phase")
    require_role(actor, session, rule.who, rule.name)
    target = User.objects.filter(pk=user_id).first()
    if target is None or not can_publish(session_roles(target, session)):
        raise Refused(gettext("user %(id)s does not speak in this room") % {"id": user_id}, code="not_found")
    host = signed_in(actor)
    data = {"to": participant_of(user_id), "user": user_id, "by": host.get_full_name() or host.get_username()}
    record_event(session, actor, PLEASE_MUTE_EVENT, data)
    broadcast(session.pk, PLEASE_MUTE_EVENT, data, version=session.audit_seq)


def addressed_to(viewer: Viewer, data: dict[str, Any]) -> bool:
    """Is a media event for this viewer? One with ``to`` is for that participant only."""
    to = data.get("to")
    return can_receive(viewer.roles) and (to is None or to == participant_of(viewer.user))


def page_config(user_id: int, roles: frozenset[Role]) -> dict[str, Any]:
    """What a room page's media client needs: whether it joins, sends, controls; its ICE servers."""
    receives = can_receive(roles)
    return {
        "enabled": receives,
        "publish": can_publish(roles),
        "host": Role.HOST in roles,
        "participant": participant_of(user_id),
        "ice_servers": browser_ice_servers(user_id) if receives else [],
        "ice_transport_policy": settings.RTC_ICE_TRANSPORT_POLICY,
        "video_slots": settings.RTC_LAST_N + 1,
        "audio_slots": settings.RTC_AUDIO_SLOTS,
    }


# Every text of the media client (rtc/static/rtc/media.js), in the page's language.
MEDIA_STRINGS: dict[str, Promise] = {
    "title": _("音视频"),
    "joining": _("正在接入音视频…"),
    "connected": _("音视频已接通"),
    "reconnecting": _("音视频重连中…"),
    "failed": _("音视频接入失败，正在重试…"),
    "receive_only": _("您以监督身份观看：不发送音视频，他人看不到您。"),
    "other_tab": _("音视频已在本浏览器的另一个页面中打开。"),
    "take_over": _("在此页面接入"),
    "mic_on": _("关闭麦克风"),
    "mic_off": _("打开麦克风"),
    "camera_on": _("关闭摄像头"),
    "camera_off": _("打开摄像头"),
    "microphone": _("麦克风"),
    "camera": _("摄像头"),
    "me": _("我"),
    "muted": _("已静音"),
    "camera_muted": _("摄像头已关闭"),
    "speaking": _("正在发言"),
    "pinned": _("已置顶"),
    "pin": _("置顶"),
    "unpin": _("取消置顶"),
    "please_mute": _("请其静音"),
    "asked_to_mute": _("主持人（{by}）请您关闭麦克风，麦克风已关闭；需要发言时可再打开。"),
    "reconnecting_tile": _("重连中…"),
    "denied": _(
        "无法使用摄像头或麦克风：浏览器拒绝了访问。请在地址栏的站点设置中允许使用摄像头和麦克风，然后刷新页面。"
    ),
    "no_device": _("未找到摄像头或麦克风：请检查设备连接。您仍可观看和收听。"),
    "device_error": _("摄像头或麦克风无法启动：{error}"),
    "quality": _("连接质量："),
    "quality_good": _("良好"),
    "quality_fair": _("一般"),
    "quality_poor": _("较差"),
    "quality_unknown": _("—"),
    "no_tiles": _("暂无其他人的视频。"),
}

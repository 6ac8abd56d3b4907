"""Who owns which upstream object: a widget session, or a host app through the proxy; 404 for anyone else."""

from flask import g
from sqlalchemy.exc import IntegrityError

from . import webhooks
from .db import SessionObject, WidgetSession, db
from .errors import ApiError


def bind(kind, upstream_id, session=None):
    """Record that a widget session (the current one unless given) created or was given an upstream object.

    The caller commits.
    """
    session = session or g.widget_session
    if _session_owns(_owner(kind, upstream_id), session):
        return  # a replayed request binding what this session (or the one it carries on from) already owns
    if not _insert(kind, upstream_id, session.host_app_id, session.id):
        if _session_owns(_owner(kind, upstream_id), session):
            return  # a concurrent replay of this session's own request bound it first
        raise ApiError(409, "BFF-409", "This object already belongs to another widget session.")


def require_own(kind, upstream_id):
    """Refuse (404, as if it did not exist) an upstream object the current widget session does not own."""
    if not _session_owns(_owner(kind, upstream_id)):
        raise ApiError(404, "BFF-404", "Not found.")


def bind_to_host_app(host_app_id, kind, upstream_id):
    """Record that a host app created an upstream object through the proxy; False if another host app owns it."""
    owner = _owner(kind, upstream_id)
    if owner is None and _insert(kind, upstream_id, host_app_id, None):
        return True
    owner = owner or _owner(kind, upstream_id)
    return owner is not None and owner[0] == host_app_id


def host_app_owns(host_app_id, kind, upstream_id):
    """Whether the object was created by this host app, through the proxy or by one of its widget sessions."""
    owner = _owner(kind, upstream_id)
    return owner is not None and owner[0] == host_app_id


def _session_owns(owner, session=None):
    """Whether a widget session (the current one by default) is owner, or carries on its work (after a renewal)."""
    session = session or g.widget_session
    if owner is None or owner[0] != session.host_app_id or owner[1] is None:
        return False
    return owner[1] == session.id or db.session.scalar(
        db.select(WidgetSession.flow_id).filter_by(id=owner[1])) == session.flow_id


def _insert(kind, upstream_id, host_app_id, session_id):
    """Write a binding and queue the stored webhooks it is owed; False when someone bound the object first."""
    webhooks.lock_objects([upstream_id])
    db.session.add(SessionObject(session_id=session_id, host_app_id=host_app_id, kind=kind, upstream_id=upstream_id))
    try:
        db.session.flush()  # written before the stored webhooks are read: see webhooks.lock_objects
    except IntegrityError:
        db.session.rollback()  # no savepoint: pysqlite's SAVEPOINT outside a transaction commits on release
        return False
    webhooks.forward_missed(host_app_id, upstream_id)
    return True


def _owner(kind, upstream_id):
    """Return (host app id, session id or None) of the owner of an upstream object, or None."""
    row = db.session.execute(db.select(SessionObject.host_app_id, SessionObject.session_id)
                             .filter_by(kind=kind, upstream_id=upstream_id)).first()
    return tuple(row) if row else None

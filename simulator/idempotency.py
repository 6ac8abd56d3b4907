"""Replay a state-changing request's response when its Idempotency-Key comes back."""

import functools
import hashlib

from flask import json, make_response, request
from sqlalchemy.exc import IntegrityError

from . import errors
from .db import db
from .models import IdempotencyRecord
from .oauth import current_client_id

HEADER = "Idempotency-Key"


def _fingerprint():
    """Hash what makes two requests the same request: method, path and body."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data())
    return digest.hexdigest()


def _claim(key, fingerprint):
    """Reserve the key for this request, or return the record that already holds it."""
    client_id = current_client_id()
    record = IdempotencyRecord(client_id=client_id, key=key, fingerprint=fingerprint)
    db.session.add(record)
    try:
        db.session.commit()
        return record, True
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(db.select(IdempotencyRecord).filter_by(client_id=client_id, key=key)), False


def idempotent(view):
    """Make a POST safe to retry: the same key and body get the first response, not a second effect."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise errors.ApiError(400, errors.BAD_REQUEST, f"{HEADER} must be 1 to 255 characters.")
        fingerprint = _fingerprint()
        record, claimed = _claim(key, fingerprint)
        if not claimed:
            if record.fingerprint != fingerprint:
                raise errors.ApiError(
                    422, errors.IDEMPOTENCY_KEY_REUSED, f"This {HEADER} was used for a different request."
                )
            if record.status_code is None:
                raise errors.ApiError(
                    409, errors.IDEMPOTENCY_IN_PROGRESS, "A request with this key is still being processed; retry."
                )
            replay = make_response(json.dumps(record.body), record.status_code)
            replay.mimetype = "application/json"
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = make_response(view(*args, **kwargs))
        except errors.ApiError as error:
            response = error.to_response()
        except Exception:
            # An unexpected failure changed nothing we can promise: free the key for a retry.
            db.session.rollback()
            db.session.delete(db.session.merge(record))
            db.session.commit()
            raise
        record = db.session.merge(record)
        record.status_code = response.status_code
        record.body = response.get_json()
        db.session.commit()
        return response

    return wrapper

"""A widget's steps in order, over its per-flow draft: resume where the user was, never skip a step.

A widget builds one Flow and hands it its specifics (draft model, steps, what is unfinished); the
kit never imports a widget. Rendering a step has no side effects: show() is the navigation that
records the step the user may be on and commits the request's writes; a view that answers any other
way commits what it wrote itself.
"""

import hashlib
import json
from datetime import timedelta

from flask import current_app, g, render_template

from bff import sessions
from bff.db import WidgetSession, aware, db, utcnow
from bff.i18n import local_time

from .alerts import error_event, upstream_alert
from .outcome import announce, exited

INVALID = 422  # a step shown again with what to fix (see render_step)
STATUS_HEADER = "X-Osigu-Status"


def idempotency_key(action, body):
    """One key per flow, action and body: a retry replays, after a renewal or a reload too; a new body is new."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    return f"{action}-{g.widget_session.flow_id}-{digest}"


class Flow:
    """The steps of one widget over its draft model, with the routes every widget has (step pages, resume)."""

    def __init__(self, bp, draft_model, steps, first_unfinished, *, messages=None, subject=None, worth_resuming=None,
                 template_context=None):
        self.bp, self.widget, self.model = bp, bp.name, draft_model
        self.steps = steps  # () -> the step names in order
        self.first_unfinished = first_unfinished  # (draft) -> the first step whose input is missing
        self.messages = messages or dict  # () -> {Osigu error code: the user's message}
        # What makes a new session's earlier draft the same work (the host's patient, say) and worth offering.
        self.subject, self.worth_resuming = subject, worth_resuming
        self.template_context = template_context or dict
        self.renderers, self.start_hooks, self.discard_hooks = {}, [], []
        bp.add_url_rule("/resume", "resume", self.resume)
        bp.add_url_rule("/resume/earlier", "resume_earlier", self.resume_earlier, methods=["POST"])
        bp.add_url_rule("/resume/new", "start_new", self.start_new, methods=["POST"])

    def renders(self, step):
        """Register the function that renders step with everything its template needs; GET /<step> shows it."""

        def decorator(function):
            self.renderers[step] = function
            self.bp.add_url_rule(f"/{step}", f"{step}_step", lambda: self.show(step))
            return function

        return decorator

    def on_start(self, function):
        """Register what a new draft takes from the session's context (the host's patient, say)."""
        self.start_hooks.append(function)
        return function

    def on_discard(self, function):
        """Register what undoing an unfinished draft the user chose not to resume takes (an open dispensation)."""
        self.discard_hooks.append(function)
        return function

    def existing(self):
        """The draft this session carries on, or None before its first step."""
        return db.session.get(self.model, g.widget_session.flow_id)

    def draft(self):
        """The draft this session carries on, made on first use."""
        found = self.existing()
        if found is None:
            found = self.model(flow_id=g.widget_session.flow_id, step=self.steps()[0])
            db.session.add(found)
        return found

    def allowed_step(self, current, wanted):
        """The step to show for wanted: itself when everything before it is done, else the first unfinished one."""
        if current.outcome:
            return "done"
        order = self.steps()
        limit = self.first_unfinished(current)
        if wanted not in order or order.index(wanted) > order.index(limit):
            return limit
        return wanted

    def render_step(self, step, status=200, alert=None, **context):
        """Render one step's template; an alert is also reported to the host. Renders only: writes nothing."""
        order = self.steps()
        html = render_template(f"{self.widget}/{step}.html", step=step, draft=self.draft(), steps=order, alert=alert,
                               position=order.index(step) + 1 if step in order else None,
                               **self.template_context(), **context)
        # A step shown again with something to fix is a 422 to the views, but travels as a 200 with
        # X-Osigu-Status: 422: browsers log every 4xx answer in the console, and a widget logs nothing.
        response = current_app.make_response((html, 200 if status == INVALID else status))
        if status == INVALID:
            response.headers[STATUS_HEADER] = str(INVALID)
        # Not under an "error" key: htmx logs any event detail with one to the console, and a widget logs nothing.
        return announce(response, "osigu:error", {"problem": error_event(alert)}) if alert else response

    def alert(self, error):
        """What went wrong upstream, in the user's language, with this widget's own messages for its error codes."""
        return upstream_alert(error, self.messages())

    def refuse(self, render, error, **context):
        """Re-render a step with what went wrong upstream, as a 422 (render_step tells the host, once)."""
        return render(INVALID, self.alert(error), **context)

    def cancel(self, drop):
        """Leave the widget without finishing (exit "cancelled"); once finished, the outcome is shown instead.

        drop(draft) clears the widget's work, but the row and its step stay: a second cancel (a double click)
        answers the same exit, and the session, if mounted again, starts over.
        """
        current = self.draft()
        if current.outcome:
            return self.show("done")
        step = current.step
        drop(current)
        db.session.commit()
        return exited(current_app.make_response(render_template(f"{self.widget}/cancelled.html", step="cancelled")),
                      "cancelled", step)

    def show(self, step):
        """Show the step the draft allows for step (an earlier one while input is missing); a new session begins."""
        current = self.existing()
        if current is None:
            return self.begin()  # e.g. a renewal that could not carry the draft over: offer it, or start afresh
        return self._go(current, step)

    def _go(self, current, step):
        """Record the allowed step as where the user is, commit the request's writes, then render it."""
        current.step = self.allowed_step(current, step)
        db.session.commit()
        return self.renderers[current.step]()

    def resume(self):
        """Show the step the user was on; a new session first offers the user's unfinished draft for this subject."""
        current = self.existing()
        return self.show(current.step if current else self.steps()[0])

    def begin(self):
        """Offer the user's unfinished draft for this subject, if there is one; else start one from the context."""
        earlier = self.unfinished_draft()
        if earlier is not None:
            started = local_time(aware(earlier.created_at), "short", time_only=True)
            return render_template(f"{self.widget}/resume.html", step="resume", started=started)
        return self.start_draft()

    def resume_earlier(self):
        """Carry on the unfinished draft found for this session (found again here: the form names none)."""
        earlier = self.unfinished_draft()
        if earlier is not None:
            sessions.resume_flow(g.widget_session, earlier.flow_id)
        return self.start_draft()

    def start_new(self):
        """Start afresh, discarding the unfinished draft that was offered."""
        earlier = self.unfinished_draft()
        if earlier is not None:
            for hook in self.discard_hooks:
                hook(earlier)
            db.session.delete(earlier)
        return self.start_draft()

    def start_draft(self):
        """Show the draft's step, a new draft first taking what the session's context gives it."""
        current = self.draft()
        for hook in self.start_hooks:
            hook(current)
        return self._go(current, current.step)

    def unfinished_draft(self):
        """The latest unfinished draft of this user for this subject, on this host app and page, or None.

        It is what a reload of the host page left behind: found here from the session's own facts,
        never from an id the browser sends.
        """
        session = g.widget_session
        subject = self.subject(session.context) if self.subject else None
        if not subject:
            return None
        since = utcnow() - timedelta(seconds=current_app.config["SESSION_MAX_SECONDS"])
        candidates = db.session.execute(
            db.select(self.model, WidgetSession.context)
            .join(WidgetSession, WidgetSession.flow_id == self.model.flow_id)
            .filter(WidgetSession.host_app_id == session.host_app_id, WidgetSession.widget == session.widget,
                    WidgetSession.origin == session.origin,
                    WidgetSession.user["id"].as_string() == session.user["id"],
                    self.model.flow_id != session.flow_id, self.model.updated_at >= since)
            .order_by(self.model.updated_at.desc()).limit(20)).all()
        return next((found for found, context in candidates
                     if self.subject(context) == subject and not found.outcome and self.worth_resuming(found)), None)


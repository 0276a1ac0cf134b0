"""Handler contexts: what the handlers run for an instance's task may use, built once per request.

Owns building `handlers.context.HandlerContext` for an instance and task (directory, contracts, missions,
trainings, documents, mailer, campaign, decisions, today's date from the runtime's clock), the per-request
cache that lets form rules, choice lists and service tasks of one request share a context (and its
look-ups), and the restricted script engine through which service tasks call the registered handlers.
Handlers get nothing else: no configuration, no session.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

import handlers
from engine.campaign.campaigns import campaign_context, campaign_context_of
from engine.campaign.missions import SqlMissions
from engine.campaign.trainings import SqlTrainings
from engine.directory.lookups import SqlContracts, SqlDirectory
from engine.documents import DocumentStore, InstanceDocuments
from engine.mail import Mailer
from engine.models import Campaign, ProcessInstance
from engine.runtime.budget import Budget
from engine.runtime.decisions import BundleDecisions
from engine.runtime.deployment import bundle_for
from engine.runtime.scripting import CampaignScriptEngine
from handlers.catalog import HANDLER_CATALOG
from handlers.context import HandlerContext


class HandlerContexts:
    """Builds the handler context of an instance and task on first use, and keeps it for the request."""

    def __init__(self, session: Session, documents: DocumentStore, clock: Callable[[], datetime],
                 budget: Budget | None = None,
                 campaign_read: Callable[[int], tuple[bool, Campaign | None]] | None = None,
                 claim: Callable[[ProcessInstance], None] | None = None):
        """`campaign_read` tells whether an instance's campaign was already read in this request, and which;
        `claim` holds an instance's row before a handler writes rows of its own for it."""
        self.session = session
        self.documents = documents
        self.clock = clock
        self.budget = budget or Budget()
        self.campaign_read = campaign_read or (lambda _instance_id: (False, None))
        self.claim = claim
        self._contexts: dict[tuple[int, str | None], HandlerContext] = {}

    def for_task(self, instance: ProcessInstance, task_id: str | None) -> HandlerContext:
        """The context of handlers run for an instance (for one of its user tasks when `task_id` is given)."""
        key = (instance.id, task_id)
        if key not in self._contexts:
            self._contexts[key] = self._build(instance, task_id)
        return self._contexts[key]

    def script_engine(self, instance: ProcessInstance, task_id: str | None) -> CampaignScriptEngine:
        """A restricted script engine whose service tasks call the registered handlers with this context."""
        def call_service(name: str, params: dict, _task_data: dict) -> dict:
            handler = handlers.HANDLERS.get(name)
            if handler is None:
                raise handlers.context.HandlerError(f"Aucun gestionnaire nommé « {name} » n'est enregistré.")
            return handler(self.for_task(instance, task_id), **params)

        def before_service(name: str) -> None:
            # A handler the catalogue does not describe may write anything: it claims.
            description = HANDLER_CATALOG.get(name)
            if self.claim is not None and (description is None or description.claims_instance):
                self.claim(instance)

        return CampaignScriptEngine(call_service, self.budget, before_service)

    def _build(self, instance: ProcessInstance, task_id: str | None) -> HandlerContext:
        today: date = self.clock().date()
        bundle = bundle_for(instance.deployment)
        # The campaign's dates and deadline are those of its campaign process (the hosting project).
        in_campaign = instance.process_id == bundle.catalogue.campaign_process_id
        return _LazyCampaignContext(
            directory=SqlDirectory(self.session),
            contracts=SqlContracts(self.session, instance.id, today),
            documents=InstanceDocuments(self.documents, self.session, instance.id, task_id),
            # A message about the campaign's own process links to its dossier: no training session to look for.
            mailer=Mailer(self.session, instance.id, self.clock, link=f"/dossiers/{instance.id}" if in_campaign else None),
            today=today,
            instance_id=instance.id,
            campaign=(lambda: self._campaign(instance, today)) if in_campaign else _no_campaign,
            decisions=BundleDecisions(bundle),
            missions=SqlMissions(self.session, instance.id, self.clock),
            trainings=SqlTrainings(self.session, instance.id, self.clock),
        )

    def _campaign(self, instance: ProcessInstance, today: date) -> dict[str, Any] | None:
        """The campaign context of an instance, from the campaign read with its task rows when it was."""
        known, campaign = self.campaign_read(instance.id)
        if known:
            return campaign_context_of(self.session, campaign, instance.establishment_id, today)
        return campaign_context(self.session, instance.campaign, instance.establishment_id, today)


def _no_campaign() -> None:
    """The campaign of an instance outside the campaign process: none."""
    return None


_UNREAD = object()


class _LazyCampaignContext(HandlerContext):
    """A handler context whose campaign is read on first use: most service tasks and forms never ask for it."""

    def __init__(self, campaign: Callable[[], dict[str, Any] | None], **fields: Any):
        super().__init__(**fields)
        self._read_campaign = campaign
        self._campaign: Any = _UNREAD

    @property
    def campaign(self) -> dict[str, Any] | None:
        """The instance's campaign, read from the database the first time a handler asks."""
        if self._campaign is _UNREAD:
            self._campaign = self._read_campaign()
        return self._campaign

    @campaign.setter
    def campaign(self, value: dict[str, Any] | None) -> None:
        self._campaign = value

"""Restored workflows kept between requests of one worker process.

Restoring an instance from its JSON state rebuilds every task object: it is
the largest single cost of a completion. A workflow saved by a request is kept
here under the instance's new version; the next request on that instance, in
the same process, finds it if the row's version is still that one (any change
by anyone raises the version, and optimistic locking refuses a save made from
an older one). An entry is taken out while a request uses it and put back only
after a successful commit, so a failed or abandoned request never leaves a
half-changed workflow behind.

The cache also knows the ready user tasks of each workflow it keeps: a request
completing a task it does not know reads the instance's state in the same
statement as the task, instead of one more afterwards.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

DEFAULT_SIZE = 64


class WorkflowCache:
    """A bounded, least-recently-used map of instance id to (identity, workflow).

    The identity is what must match for the kept workflow to be the row's state: its version, deployment and
    creation time (an id freed by a deleted instance may be given again, with versions counting from 1 again).
    """

    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        # Instance id → (identity, workflow, its ready user task ids).
        self._entries: OrderedDict[int, tuple[Hashable, BpmnWorkflow, tuple[str, ...]]] = OrderedDict()
        # The ready user task ids of the workflows kept.
        self._ready: set[str] = set()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, instance_id: int, identity: Hashable) -> BpmnWorkflow | None:
        """Remove and return the instance's workflow if it was kept under exactly this identity."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            if entry is not None:
                self._ready.difference_update(entry[2])
                if entry[0] == identity:
                    self.hits += 1
                    return entry[1]
            self.misses += 1
            return None

    def keep(self, instance_id: int, identity: Hashable, workflow: BpmnWorkflow, ready: Iterable[str] = ()) -> None:
        """Keep a workflow just committed with its `ready` user task ids, evicting the least recently kept beyond
        the size."""
        if self.size <= 0:
            return
        with self._lock:
            if (replaced := self._entries.pop(instance_id, None)) is not None:
                self._ready.difference_update(replaced[2])
            ready_ids = tuple(ready)
            self._entries[instance_id] = (identity, workflow, ready_ids)
            self._ready.update(ready_ids)
            while len(self._entries) > self.size:
                _evicted, entry = self._entries.popitem(last=False)
                self._ready.difference_update(entry[2])

    def holds_task(self, task_id: str) -> bool:
        """Whether a workflow kept here had `task_id` among its ready user tasks (it may have changed since)."""
        with self._lock:
            return task_id in self._ready

    def clear(self) -> None:
        """Forget every kept workflow."""
        with self._lock:
            self._entries.clear()
            self._ready.clear()

    def __len__(self) -> int:
        return len(self._entries)


WORKFLOWS = WorkflowCache(int(os.environ.get("WORKFLOW_CACHE_SIZE", DEFAULT_SIZE)))
# A forked worker starts empty rather than with copies of its parent's objects.
os.register_at_fork(after_in_child=WORKFLOWS.clear)


def identity_of(instance) -> tuple:
    """What identifies one saved state of an instance row."""
    return instance.version, instance.deployment_id, instance.created_at

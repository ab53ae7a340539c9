"""What a person sees in the terminal while a run goes: one line per stage, with the loop
position and the best score so far."""

from __future__ import annotations

import sys
import time


class Progress:
    """Renders the custom stream: stage, loop position and best score, one line each."""

    def __init__(self, stream=None, lower: bool | None = None, time_limit: float | None = None):
        self.stream, self.lower, self.best, self.t0 = stream, lower, None, time.time()
        self.time_limit = time_limit

    def _better(self, score: float | None, best: float | None) -> bool:
        from mle_star.tools.metrics import Metric

        return Metric("progress", "score", higher_is_better=not self.lower, needs_proba=False).better(score, best)

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "notice":
            self._line(event["text"])
        elif kind == "task":
            self.lower = event["lower_is_better"]
            self._line(f"task {event['name']}: {event['modality']} {event['type']}, metric {event['metric']} "
                       f"({'lower' if self.lower else 'higher'} is better, scores {event['scoring'].replace('_', '-')});"
                       f" run dir {event['run_dir']}")
        elif kind == "stage" and event["node"] not in ("execute", "leakage_checker", "debugger"):
            score = event.get("score")
            if event["node"] not in ("ablation", "submission") and self._better(score, self.best):
                self.best = score
            where = f"path {event['path']} " if event.get("path") is not None else ""
            shown = f" score={score:.5f}" if isinstance(score, float) else ""
            best = f"{self.best:.5f}" if self.best is not None else "none yet"
            self._line(f"{where}{event['node']}{shown} | best={best} | {str(event.get('detail', ''))[:90]}")
        elif kind == "script_started":
            self._line(f"script {event['name']} started")
        elif kind == "script_finished" and not event.get("ok"):
            self._line(f"script {event['name']} failed after {event['duration']:.1f}s")

    def _line(self, text: str) -> None:
        print(f"[{time.time() - self.t0:7.1f}s] {text}", file=self.stream or sys.stderr, flush=True)

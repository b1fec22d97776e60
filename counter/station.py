"""One counter's whole agent: the core, its input sources and its feedback, started together."""

from __future__ import annotations

import logging
from typing import Any

from antrean.config import Config
from antrean.device import DeviceLink
from counter.agent import CounterAgent, Feedback, LinkFactory
from counter.feedback import GpioFeedback, JournalFeedback
from counter.inputs import InputSource
from counter.inputs.registry import open_sources
from counter.settings import CounterInputs

log = logging.getLogger(__name__)


class CounterStation:
    """Wires settings to an agent; `sources` and `pin_factory` can be injected (tests, demos)."""

    def __init__(
        self,
        config: Config,
        settings: CounterInputs,
        device_id: str,
        sources: list[InputSource] | None = None,
        pin_factory: Any | None = None,
        link_factory: LinkFactory = DeviceLink,
    ) -> None:
        self.settings = settings
        self.sources = open_sources(settings.inputs, pin_factory) if sources is None else sources
        self.gpio_feedback: GpioFeedback | None = None
        feedback: list[Feedback] = [JournalFeedback(settings.counter)]
        fb = settings.feedback
        if fb.led is not None or fb.buzzer is not None:
            self.gpio_feedback = GpioFeedback(fb.led, fb.buzzer, pin_factory=pin_factory)
            feedback.append(self.gpio_feedback)
        # Every configured source starts as "offline" in the device status until it reports ok.
        health = {source.name: "offline" for source in self.sources}
        self.agent = CounterAgent(
            config,
            settings.counter,
            device_id,
            feedback,
            reply_timeout_s=settings.reply_timeout_s,
            call_guard_s=settings.call_guard_s,
            link_factory=link_factory,
            health=health,
        )

    def start(self) -> CounterStation:
        """Connects, then starts every source; a source that cannot start stops everything."""
        self.agent.start()
        started: list[InputSource] = []
        try:
            for source in self.sources:
                source.start(self.agent.press, self._on_health)
                started.append(source)
        except Exception:
            for source in started:
                source.stop()
            if self.gpio_feedback:
                self.gpio_feedback.close()
            self.agent.stop()
            raise
        return self

    def stop(self) -> None:
        for source in self.sources:
            source.stop()
        if self.gpio_feedback:
            self.gpio_feedback.close()
        self.agent.stop()

    def _on_health(self, source: str, status: str) -> None:
        self.agent.link.set_health(**{source: status})

"""The language server's scheduling, in process: an analysis skipped because the text changed
before it started is never served later for the same text (an edit, then an undo)."""

from __future__ import annotations

import asyncio
import threading

from sibdsl.lsp import Document, SibServer

TEXT = 'contract "X" currency SEK rounding 1 SEK half up\nparty p "P": payer\n'


def test_an_undo_after_a_skipped_analysis_is_analysed():
    server = SibServer()
    document = Document("file:///x.sib", TEXT, 1)

    async def scenario():
        gate = threading.Event()
        blocker = asyncio.get_running_loop().run_in_executor(server.worker, gate.wait)  # the worker is busy
        first = server.analysis(document)  # queued for TEXT
        document.text = TEXT + "# edit\n"  # an edit before it starts …
        gate.set()
        await blocker
        assert await first is None  # … so it is skipped
        document.text = TEXT[:]  # … and an undo brings the same text back
        again = await server.analysis(document)
        assert again is not None and again.text == TEXT and again.index.declared["p"].kind == "party"
        return server.analyses_run

    assert asyncio.run(scenario()) == 1
    server.worker.shutdown()

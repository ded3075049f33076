"""`voxdesk bench`: reproducible figures for "the voice starts at once".

One module per job: :mod:`.texts` (what is spoken), :mod:`.stats` (summaries), :mod:`.result`
(what a scenario returns), :mod:`.measure` (timing one utterance or one raw voxcpm call),
:mod:`.scenarios` (what is compared), :mod:`.report` (terminal table and JSON), :mod:`.plot`
(PNG), :mod:`.progress` (the bar on stderr) and :mod:`.runner` (loads the model, runs them).
"""

"""The tools around the queue: the `antrean` command line, the demo, the doctor,
the day's report and the office broker's files. They use the core; the core
never imports them."""

"""Amazon's tab-separated reports, read line by line: the header names the columns (a
report's columns are found by name, never by position), blank lines are skipped, and every
row knows its line in the document. Used by the settlement and returns parsers."""


class TabReader:
    """``TabReader(lines, key)``: ``names`` is the header, each name normalised by ``key``
    (None: the document is empty); ``index`` maps a name to its column (the first column of
    that name). ``next_line()`` gives the next non-blank line (``line_no`` is its number,
    from 1); ``cells(line)`` a function ``name -> cell`` (stripped; '' for a column the
    document or the row lacks)."""

    def __init__(self, lines, key=lambda name: name.strip().lower()):
        self._lines = iter(lines)
        self.line_no = 0
        header = self.next_line()
        self.names = None if header is None else [key(name) for name in
                                                   header.lstrip("\ufeff").split("\t")]
        self.index = {name: pos for pos, name in reversed(list(enumerate(self.names or [])))
                      if name}

    def next_line(self):
        for line in self._lines:
            self.line_no += 1
            if line.strip():
                return line
        return None

    def cells(self, line):
        cells = line.split("\t")
        width = len(cells)
        index = self.index
        return lambda name: cells[index[name]].strip() if index.get(name, width) < width else ""

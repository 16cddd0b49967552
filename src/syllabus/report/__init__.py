"""A static HTML site of the graph, its coverage, gaps and builds (``syllabus report``)."""

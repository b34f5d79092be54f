"""Images the user hands glmcode: a screenshot, a diagram, a mock-up.

- `load`: reading a file into an image the API takes (kind, size, scaled down when too big).
- `store`: images kept once by content hash, so a session file refers to them.
- `route`: which model sees a turn's images (the main model, or the vision model that
  describes them or runs the turn), and the run that follows.

Pillow is imported only when an image is read.
"""

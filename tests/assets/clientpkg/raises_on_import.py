raise RuntimeError("cannot reach the model server at import time")

import definitely_not_installed_dependency  # noqa: F401


class Client:
    pass

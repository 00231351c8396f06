class Broken:
    def create(self, params)
        return None

"""RQ jobs (written by the SMS work)."""


def send_batch(ids: list[int]) -> None:  # placeholder until the SMS core lands
    raise NotImplementedError

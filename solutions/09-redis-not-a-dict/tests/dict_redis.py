"""A stand-in for redis.Redis that keeps keys in a dict: fast, and no server to start."""

from __future__ import annotations


class DictRedis:
    def __init__(self) -> None:
        self.data: dict[str, object] = {}

    def get(self, name: str):
        return self.data.get(name)

    def set(self, name: str, value, ex=None, px=None) -> bool:
        self.data[name] = value
        return True

    def delete(self, *names: str) -> int:
        return sum(self.data.pop(name, None) is not None for name in names)

    def pipeline(self) -> DictPipeline:
        return DictPipeline(self)


class DictPipeline:
    def __init__(self, redis: DictRedis) -> None:
        self._redis = redis
        self._calls: list[tuple[str, tuple, dict]] = []

    def set(self, *args, **kwargs) -> DictPipeline:
        self._calls.append(("set", args, kwargs))
        return self

    def execute(self) -> list:
        return [getattr(self._redis, name)(*args, **kwargs) for name, args, kwargs in self._calls]

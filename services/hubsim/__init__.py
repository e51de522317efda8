"""Hub simulator: a seeded synthetic Hugging Face Hub (Spaces API) with planted leaks and ground truth."""

from services.hubsim.server import HubSimulator, RateLimitConfig
from services.hubsim.world import World

__all__ = ["HubSimulator", "RateLimitConfig", "World"]

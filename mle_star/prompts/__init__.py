"""The MLE-STAR roles and their prompts: see ``mle_star.prompts.roles``, one declaration per role."""

from mle_star.prompts.roles import PAYLOAD_KEY, REASK, ROLES, SYSTEM, Role, RoleInputs, Settings

__all__ = ["PAYLOAD_KEY", "REASK", "ROLES", "SYSTEM", "Role", "RoleInputs", "Settings"]

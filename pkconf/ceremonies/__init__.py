"""How a credential travels to the tenant: the CTAP client path (`client`), the self-service
(`ctap`) and Graph provisioning (`graph`) ceremonies, and the browser (`browser`)."""

from . import ctap, graph

# The CTAP-client ceremonies by name: the user on Security info, or an admin through Graph.
CTAP_CEREMONIES = {"ctap": ctap.register, "graph": graph.register}

"""How a credential travels to the tenant: the CTAP client path (`client`), the self-service
(`ctap`), Graph provisioning (`graph`) and Graph /me (`graph-me`) ceremonies, and the browser
(`browser`)."""

from . import ctap, graph

# The CTAP-client ceremonies by name: the user on Security info, an admin through Graph, or the
# user's own Graph client on /me.
CTAP_CEREMONIES = {"ctap": ctap.register, "graph": graph.register, "graph-me": graph.register_me}

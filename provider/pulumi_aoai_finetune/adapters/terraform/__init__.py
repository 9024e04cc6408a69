"""The resources served to Terraform and OpenTofu: the third thin adapter over the controllers.

- :mod:`.schema`: the provider block and the resources' attributes (``aoai_finetune_*``);
- :mod:`.wire`: values on the protocol's wire (msgpack, cty types, unknowns) <-> the controllers' dicts;
- :mod:`.adapter`: plan/apply/read/import <-> check/diff/create/update/delete/read;
- :mod:`.server`: the plugin process (handshake, TLS, gRPC, stop); ``terraform-provider-aoai``.
"""

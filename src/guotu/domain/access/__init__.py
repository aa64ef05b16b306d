"""Who may see and do what (分级开放): open grades of layers, access roles with the separation
of duties a level-3 system needs (三员分立), layer access policies, password rules and the
hash chain of the audit log. Pure decisions: the store keeps users and policies, the web and
the CLI enforce what these functions decide."""

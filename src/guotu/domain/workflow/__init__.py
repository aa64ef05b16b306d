"""Approval workflows (多审合一、多证合一): procedures as data, cases moving through them."""

"""One router per entity family of docs/management-plane.md section 4."""

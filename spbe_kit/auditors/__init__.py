"""What auditors read: the audit against national controls, the evidence pack, the handover
record (BAST) and the report writers."""

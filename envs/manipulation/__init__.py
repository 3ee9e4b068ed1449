"""Arm-manipulation tasks (Panda and G1 upper body) with VideoVLA-style 7-D ``ee_delta``
actions, language instructions and seeded randomisation. Ids are registered in
``twin/registration.py``; this package only holds the task modules."""

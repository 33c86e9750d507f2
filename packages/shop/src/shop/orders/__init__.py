"""Orders: the state machine, lines, history, and the checkout that creates them."""

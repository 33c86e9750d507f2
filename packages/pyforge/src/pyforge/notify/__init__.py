"""Notifications: preferences, email, Slack, signed webhooks and live WebSocket events.

Everything is driven by the kit's events. Consumers (``notify.*``, selected with
``pyforge worker --queues notify``) turn an event into rows of the delivery log, one per
(event, channel, recipient) and unique on that triple, in the same transaction that records
the event as processed; a delivery loop then sends them with retries, exponential backoff and
jitter, recording every attempt. A redelivered event therefore never sends twice, and a crash
between "decided to notify" and "sent" only delays the notification.

Live events take another path: the ``notify.live`` consumer publishes each project event to
Redis pub/sub (or an in-process hub when embedded), and every API process forwards it to its
WebSocket clients subscribed to that project.
"""

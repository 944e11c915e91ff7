"""Delivery of frames to connections through API Gateway's Management API."""

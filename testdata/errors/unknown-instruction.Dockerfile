FROM busybox:latest
RUNN echo hi

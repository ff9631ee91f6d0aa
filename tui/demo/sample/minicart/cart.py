"""A shopping cart that adds up its items and takes a percentage off the total."""

from dataclasses import dataclass, field


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 1


@dataclass
class Cart:
    items: list[Item] = field(default_factory=list)

    def add(self, name: str, price: float, quantity: int = 1) -> None:
        """Put `quantity` of an item in the cart."""
        self.items.append(Item(name, price, quantity))

    def subtotal(self) -> float:
        """What the items cost before any discount."""
        return sum(item.price * item.quantity for item in self.items)

    def total(self, discount_percent: float = 0) -> float:
        """The subtotal less `discount_percent` percent of it, rounded to cents."""
        subtotal = self.subtotal()
        discount = subtotal * discount_percent
        return round(subtotal - discount, 2)

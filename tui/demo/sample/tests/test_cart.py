import unittest

from minicart.cart import Cart


class CartTest(unittest.TestCase):
    def test_empty_cart_costs_nothing(self):
        self.assertEqual(Cart().total(), 0)

    def test_subtotal_counts_quantities(self):
        cart = Cart()
        cart.add("pen", 1.50, quantity=4)
        cart.add("notebook", 3.00)
        self.assertEqual(cart.subtotal(), 9.00)

    def test_ten_percent_discount(self):
        cart = Cart()
        cart.add("lamp", 40.00)
        self.assertEqual(cart.total(discount_percent=10), 36.00)
